using System.Buffers;

namespace Z4Ai.Internal;

/// <summary>Unsigned LEB128 encoding, the compact length prefix used inside frames.</summary>
internal static class VarInt
{
    public const int MaxLength = 10;

    public static int Write(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public static void Write(IBufferWriter<byte> writer, ulong value)
    {
        Span<byte> span = writer.GetSpan(MaxLength);
        writer.Advance(Write(span, value));
    }

    public static int GetLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }
}
