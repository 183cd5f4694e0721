using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// Reads the bit fields written by <see cref="BitWriter"/>. Every read past the end of the input throws
/// <see cref="Z4AiFormatException"/>, so hostile table sections cannot run off the buffer.
/// </summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _input;
    private int _position;
    private ulong _accumulator;
    private int _available;

    public BitReader(ReadOnlySpan<byte> input)
    {
        _input = input;
        _position = 0;
        _accumulator = 0;
        _available = 0;
    }

    /// <summary>The number of whole bytes consumed (the partial last byte counts as consumed).</summary>
    public readonly int BytesConsumed => _position;

    /// <summary>Reads <paramref name="count"/> ≤ 32 bits.</summary>
    public uint Read(int count)
    {
        if (count == 0)
        {
            return 0;
        }

        while (_available < count)
        {
            if (_position >= _input.Length)
            {
                ThrowHelper.CorruptFrame("entropy table section ends early", _position);
            }

            _accumulator |= (ulong)_input[_position++] << _available;
            _available += 8;
        }

        uint value = (uint)(_accumulator & ((1UL << count) - 1));
        _accumulator >>= count;
        _available -= count;
        return value;
    }

    /// <summary>Reads an Elias-gamma code of at most <paramref name="maxBits"/> significant bits.</summary>
    public uint ReadGamma(int maxBits = 32)
    {
        int zeros = 0;
        while (Read(1) == 0)
        {
            if (++zeros >= maxBits)
            {
                ThrowHelper.CorruptFrame($"gamma code longer than {maxBits} bits in an entropy table", _position);
            }
        }

        uint value = 1;
        for (int i = 0; i < zeros; i++)
        {
            value = (value << 1) | Read(1);
        }

        return value;
    }

    /// <summary>Reads an order-<paramref name="k"/> Exp-Golomb code whose value must stay below 2^<paramref name="maxBits"/>.</summary>
    public uint ReadExpGolomb(int k, int maxBits)
    {
        uint high = ReadGamma(Math.Max(1, maxBits - k + 1)) - 1;
        if (high >= 1u << (maxBits - k))
        {
            ThrowHelper.CorruptFrame("entropy table value out of range", _position);
        }

        return (high << k) | Read(k);
    }
}
