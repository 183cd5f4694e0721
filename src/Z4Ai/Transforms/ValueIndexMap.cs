using System.Buffers;
using System.Numerics;

namespace Z4Ai.Transforms;

/// <summary>
/// An open-addressing map from 64-bit element patterns to small indices, on pooled arrays: the distinct-value counter
/// of the palette analysis and the value-to-index lookup of its encoder. Any 64-bit key is allowed (slots record
/// occupancy in the value array, not with a sentinel key).
/// </summary>
internal sealed class ValueIndexMap : IDisposable
{
    private ulong[] _keys;
    private int[] _values; // index + 1; 0 marks an empty slot
    private readonly int _mask;
    private readonly int _shift;

    /// <summary>Creates a map that holds up to <paramref name="maxEntries"/> keys at a load factor of at most 1/2.</summary>
    public ValueIndexMap(int maxEntries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        int capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, maxEntries * 2));
        MaxEntries = maxEntries;
        _mask = capacity - 1;
        _shift = 64 - BitOperations.Log2((uint)capacity);
        _keys = ArrayPool<ulong>.Shared.Rent(capacity);
        _values = ArrayPool<int>.Shared.Rent(capacity);
        Array.Clear(_values, 0, capacity);
    }

    /// <summary>The number of keys stored.</summary>
    public int Count { get; private set; }

    /// <summary>The most keys the map accepts.</summary>
    public int MaxEntries { get; }

    /// <summary>Adds <paramref name="key"/> with <paramref name="index"/> if absent.</summary>
    /// <returns>False when the key is new and the map is already full; true otherwise.</returns>
    public bool TryAdd(ulong key, int index)
    {
        int slot = Slot(key);
        while (_values[slot] != 0)
        {
            if (_keys[slot] == key)
            {
                return true;
            }

            slot = (slot + 1) & _mask;
        }

        if (Count == MaxEntries)
        {
            return false;
        }

        _keys[slot] = key;
        _values[slot] = index + 1;
        Count++;
        return true;
    }

    /// <summary>The index stored for <paramref name="key"/>, or -1.</summary>
    public int Find(ulong key)
    {
        int slot = Slot(key);
        while (_values[slot] != 0)
        {
            if (_keys[slot] == key)
            {
                return _values[slot] - 1;
            }

            slot = (slot + 1) & _mask;
        }

        return -1;
    }

    /// <summary>Removes every key; costs one pass over the slots, so size the map to its use.</summary>
    public void Clear()
    {
        Array.Clear(_values, 0, _mask + 1);
        Count = 0;
    }

    /// <summary>Copies the stored keys (in slot order) to <paramref name="destination"/>; returns how many.</summary>
    public int CopyKeys(Span<ulong> destination)
    {
        int n = 0;
        for (int slot = 0; slot <= _mask; slot++)
        {
            if (_values[slot] != 0)
            {
                destination[n++] = _keys[slot];
            }
        }

        return n;
    }

    /// <summary>Returns the arrays to the pool.</summary>
    public void Dispose()
    {
        if (_keys.Length != 0)
        {
            ArrayPool<ulong>.Shared.Return(_keys);
            ArrayPool<int>.Shared.Return(_values);
            _keys = [];
            _values = [];
        }
    }

    // Fibonacci hashing: the multiply spreads low-entropy keys (small integers, floats with zero low bits) across
    // the top bits, which select the slot.
    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift) & _mask;
}
