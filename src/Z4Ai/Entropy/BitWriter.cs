namespace Z4Ai.Entropy;

/// <summary>
/// Appends bit fields least-significant bit first into a growable buffer; used for the small table sections, where
/// compactness matters more than speed. A counting-only instance (<see cref="BitWriter(bool)"/>) measures the exact
/// size of a table without writing it, so the cost model and the serialiser cannot disagree.
/// </summary>
internal sealed class BitWriter
{
    private readonly bool _countOnly;
    private byte[] _buffer;
    private int _bytes;
    private ulong _accumulator;
    private int _pending;

    /// <summary>Creates a writer; with <paramref name="countOnly"/> it only counts bits.</summary>
    public BitWriter(bool countOnly = false)
    {
        _countOnly = countOnly;
        _buffer = countOnly ? [] : new byte[64];
    }

    /// <summary>The number of bits written so far.</summary>
    public long BitCount { get; private set; }

    /// <summary>Writes the low <paramref name="count"/> bits of <paramref name="value"/> (count ≤ 32).</summary>
    public void Write(uint value, int count)
    {
        BitCount += count;
        if (_countOnly || count == 0)
        {
            return;
        }

        _accumulator |= (ulong)(value & (uint)((1UL << count) - 1)) << _pending;
        _pending += count;
        while (_pending >= 8)
        {
            if (_bytes == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            _buffer[_bytes++] = (byte)_accumulator;
            _accumulator >>= 8;
            _pending -= 8;
        }
    }

    /// <summary>Writes <paramref name="value"/> ≥ 1 as an Elias-gamma code: bit length − 1 zeros, then the bits.</summary>
    public void WriteGamma(uint value)
    {
        int length = 32 - System.Numerics.BitOperations.LeadingZeroCount(value);
        Write(0, length - 1);
        WriteReversedHigh(value, length);
    }

    /// <summary>Writes <paramref name="value"/> as an order-<paramref name="k"/> Exp-Golomb code.</summary>
    public void WriteExpGolomb(uint value, int k)
    {
        WriteGamma((value >> k) + 1);
        Write(value, k);
    }

    /// <summary>Pads to a byte boundary with zero bits and returns the bytes written.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        if (_pending > 0)
        {
            Write(0, 8 - _pending);
        }

        return _buffer.AsSpan(0, _bytes);
    }

    // Gamma codes are read one bit at a time from the most significant end, so emit that end first.
    private void WriteReversedHigh(uint value, int length)
    {
        for (int i = length - 1; i >= 0; i--)
        {
            Write((value >> i) & 1, 1);
        }
    }
}
