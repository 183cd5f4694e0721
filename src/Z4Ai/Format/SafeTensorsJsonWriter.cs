using System.Buffers.Text;

namespace Z4Ai.Format;

/// <summary>
/// Writes header JSON byte-for-byte as serde_json's compact form does: strings escape only <c>"</c>, <c>\</c> and
/// control characters (<c>\b \t \n \f \r</c>, otherwise <c>\u00xx</c> with lowercase hex), and everything else,
/// including non-ASCII and <c>/</c>, is raw UTF-8. System.Text.Json's encoders cannot be configured to match this,
/// hence the hand-written writer. Every method comes in a measuring and a writing form, so the header can be sized
/// (and checked against the limit) before anything is allocated.
/// </summary>
internal static class SafeTensorsJsonWriter
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    /// <summary>The encoded length of <paramref name="value"/> with its quotes.</summary>
    /// <exception cref="ArgumentException">The string holds a lone surrogate, which UTF-8 cannot represent.</exception>
    public static long MeasureString(string value, string paramName)
    {
        long length = 2;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c < 0x80)
            {
                length += c switch
                {
                    '"' or '\\' or '\b' or '\t' or '\n' or '\f' or '\r' => 2,
                    < ' ' => 6,
                    _ => 1,
                };
            }
            else if (c < 0x800)
            {
                length += 2;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                length += 4;
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new ArgumentException(
                    $"The string '{value}' holds a lone surrogate at index {i}; it cannot be written as UTF-8.",
                    paramName);
            }
            else
            {
                length += 3;
            }
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> with its quotes; the string must have been measured first.</summary>
    public static int WriteString(Span<byte> destination, string value)
    {
        int p = 0;
        destination[p++] = (byte)'"';
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c < 0x80)
            {
                switch (c)
                {
                    case '"':
                    case '\\':
                        destination[p++] = (byte)'\\';
                        destination[p++] = (byte)c;
                        break;
                    case '\b':
                        p += Escape(destination[p..], (byte)'b');
                        break;
                    case '\t':
                        p += Escape(destination[p..], (byte)'t');
                        break;
                    case '\n':
                        p += Escape(destination[p..], (byte)'n');
                        break;
                    case '\f':
                        p += Escape(destination[p..], (byte)'f');
                        break;
                    case '\r':
                        p += Escape(destination[p..], (byte)'r');
                        break;
                    case < ' ':
                        "\\u00"u8.CopyTo(destination[p..]);
                        destination[p + 4] = Hex[c >> 4];
                        destination[p + 5] = Hex[c & 0xF];
                        p += 6;
                        break;
                    default:
                        destination[p++] = (byte)c;
                        break;
                }
            }
            else
            {
                // MeasureString has rejected lone surrogates, so decoding cannot fail here.
                System.Text.Rune.DecodeFromUtf16(value.AsSpan(i), out System.Text.Rune rune, out int consumed);
                p += rune.EncodeToUtf8(destination[p..]);
                i += consumed - 1;
            }
        }

        destination[p++] = (byte)'"';
        return p;
    }

    /// <summary>The number of decimal digits of <paramref name="value"/>.</summary>
    public static int MeasureUInt64(ulong value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }

        return digits;
    }

    /// <summary>Writes <paramref name="value"/> in decimal, without sign or leading zeros.</summary>
    public static int WriteUInt64(Span<byte> destination, ulong value)
    {
        Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }

    /// <summary>Writes an ASCII literal.</summary>
    public static int WriteRaw(Span<byte> destination, ReadOnlySpan<byte> literal)
    {
        literal.CopyTo(destination);
        return literal.Length;
    }

    private static int Escape(Span<byte> destination, byte letter)
    {
        destination[0] = (byte)'\\';
        destination[1] = letter;
        return 2;
    }
}
