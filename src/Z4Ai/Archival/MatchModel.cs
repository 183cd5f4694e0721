using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Z4Ai.Archival;

/// <summary>
/// Finds the most recent earlier occurrence of the last <c>minLength</c> bytes (through a hash of them) and, while
/// the history keeps repeating, predicts the bit that followed it. The length of the match so far, learned per
/// length bucket, says how much to trust it.
/// </summary>
internal sealed class MatchModel
{
    private const int MaxLength = 65535;

    // Backward verification of a candidate stops here; a longer match keeps growing as it continues.
    private const int VerifyLimit = 512;

    private readonly int[] _table;
    private readonly int _mask;
    private readonly int _minLength;
    private int _ptr;
    private int _length;
    private int _predicted;

    public MatchModel(int tableBits, int minLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minLength, 8);
        _table = new int[1 << tableBits];
        _mask = (1 << tableBits) - 1;
        _minLength = minLength;
    }

    private MatchModel(MatchModel other)
    {
        _table = (int[])other._table.Clone();
        _mask = other._mask;
        _minLength = other._minLength;
        _ptr = other._ptr;
        _length = other._length;
        _predicted = other._predicted;
    }

    /// <summary>The current match length (0 when there is none).</summary>
    public int Length => _length;

    /// <summary>The byte the match predicts next.</summary>
    public int PredictedByte => _predicted;

    public MatchModel Clone() => new(this);

    /// <summary>The length as one of 32 buckets: exact to 15, then coarser.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bucket(int length) => length switch
    {
        < 16 => length,
        < 32 => 16 + ((length - 16) >> 2),
        < 64 => 20 + ((length - 32) >> 3),
        < 512 => 24 + ((length - 64) >> 6),
        _ => 31,
    };

    /// <summary>Stops following the match for the rest of the byte (a predicted bit was wrong).</summary>
    public void Break() => _length = 0;

    /// <summary>Starts loading the table entry <see cref="Update"/> will read at <paramref name="position"/>; a hint only.</summary>
    public unsafe void Prefetch(int position, uint last4, uint before4)
    {
        if (Sse.IsSupported && position >= _minLength)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_table), Slot(last4, before4))));
        }
    }

    /// <summary>Accounts for the byte just appended at <c>history[position - 1]</c>.</summary>
    /// <param name="history">The bytes so far.</param>
    /// <param name="position">The number of bytes so far.</param>
    /// <param name="last4">The last four bytes, the most recent lowest.</param>
    /// <param name="before4">The four bytes before those.</param>
    public void Update(byte[] history, int position, uint last4, uint before4)
    {
        byte c = history[position - 1];
        if (_length > 0 && _ptr < position - 1 && history[_ptr] == c)
        {
            _ptr++;
            if (_length < MaxLength)
            {
                _length++;
            }
        }
        else
        {
            _length = 0;
        }

        if (position < _minLength)
        {
            return;
        }

        int slot = Slot(last4, before4);
        if (_length == 0)
        {
            int candidate = _table[slot];
            if (candidate > 0)
            {
                int length = 0;
                while (length < VerifyLimit && length < candidate && history[candidate - 1 - length] == history[position - 1 - length])
                {
                    length++;
                }

                if (length >= _minLength)
                {
                    _length = length;
                    _ptr = candidate;
                }
            }
        }

        _table[slot] = position;
        _predicted = _length > 0 ? history[_ptr] : 0;
    }

    // The table slot of a hash of exactly the last minLength (at most 8) bytes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(uint last4, uint before4)
    {
        ulong window = ((ulong)before4 << 32) | last4;
        if (_minLength < 8)
        {
            window &= (1UL << (_minLength * 8)) - 1;
        }

        ulong mixed = (window + (ulong)_minLength) * 0x9E3779B97F4A7C15UL;
        uint h = (uint)(mixed >> 32);
        return (int)((h ^ (h >> 15)) & (uint)_mask);
    }
}
