using System.Buffers.Binary;

namespace Z4Ai.Internal;

/// <summary>
/// A bounds-checked little-endian cursor over untrusted bytes. Every read that would run past the end throws
/// <see cref="Z4AiFormatException"/> naming the offset, so parsers never see an <see cref="IndexOutOfRangeException"/>.
/// </summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Z4AiErrorKind _kind;
    private int _position;

    public SpanReader(ReadOnlySpan<byte> buffer, Z4AiErrorKind kind = Z4AiErrorKind.CorruptFrame)
    {
        _buffer = buffer;
        _kind = kind;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly ReadOnlySpan<byte> Rest => _buffer[_position..];

    public byte ReadByte() => ReadBytes(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > Remaining)
        {
            ThrowHelper.Format(_kind, $"expected {count} more bytes, {Remaining} remain", offset: _position);
        }

        ReadOnlySpan<byte> slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    /// <summary>Reads an unsigned LEB128 value of at most 10 bytes.</summary>
    public ulong ReadVarUInt64()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte();
            if (shift == 63 && b > 1)
            {
                break;
            }

            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        return ThrowHelper.Format<ulong>(_kind, "variable-length integer is longer than 64 bits", offset: _position);
    }

    /// <summary>Reads a LEB128 value that must fit a non-negative <see cref="int"/> and not exceed <paramref name="max"/>.</summary>
    public int ReadVarInt32(int max = int.MaxValue)
    {
        int start = _position;
        ulong v = ReadVarUInt64();
        if (v > (ulong)max)
        {
            ThrowHelper.Format(_kind, $"length {v} exceeds the allowed {max}", offset: start);
        }

        return (int)v;
    }
}
