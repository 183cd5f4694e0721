using Z4Ai.Entropy;
using Z4Ai.Transforms;

namespace Z4Ai.Codecs;

/// <summary>Cheap integer statistics the selector decides with: order-0 costs and distinct-value counts.</summary>
internal static class StreamStats
{
    /// <summary>The order-0 code length of a histogram, Σ c·log2(n/c), in Q16 bits (integer arithmetic).</summary>
    public static long Order0CostQ16(ReadOnlySpan<uint> counts)
    {
        long total = 0;
        foreach (uint c in counts)
        {
            total += c;
        }

        if (total == 0)
        {
            return 0;
        }

        long logTotal = FixedLog2.Log2Q16((ulong)total);
        long cost = 0;
        foreach (uint c in counts)
        {
            if (c != 0)
            {
                cost += c * (logTotal - FixedLog2.Log2Q16(c));
            }
        }

        return cost;
    }

    /// <summary>
    /// The number of distinct <paramref name="elementSize"/>-byte patterns in <paramref name="data"/>, counting
    /// stops at <paramref name="cap"/> (returned as soon as it is reached).
    /// </summary>
    public static int CountDistinct(ReadOnlySpan<byte> data, int elementSize, int cap)
    {
        int count = data.Length / elementSize;
        if (elementSize <= 2)
        {
            Span<ulong> seen = stackalloc ulong[1 << (8 * elementSize - 6)];
            seen.Clear();
            int distinct = 0;
            for (int i = 0; i < count; i++)
            {
                int v = elementSize == 1 ? data[i] : data[2 * i] | (data[(2 * i) + 1] << 8);
                ulong bit = 1UL << (v & 63);
                if ((seen[v >> 6] & bit) == 0)
                {
                    seen[v >> 6] |= bit;
                    if (++distinct >= cap)
                    {
                        return distinct;
                    }
                }
            }

            return distinct;
        }

        var set = new HashSet<ulong>();
        for (int i = 0; i < count; i++)
        {
            ulong v = 0;
            for (int b = 0; b < elementSize; b++)
            {
                v |= (ulong)data[(i * elementSize) + b] << (8 * b);
            }

            if (set.Add(v) && set.Count >= cap)
            {
                return set.Count;
            }
        }

        return set.Count;
    }

    /// <summary>
    /// True when every value of <paramref name="data"/> (a sample of floats) is an integer code times one scale,
    /// exactly as the palette's affine groups define it.
    /// </summary>
    public static bool IsAffineSample(ReadOnlySpan<byte> data, DType dtype)
    {
        if (FloatFormat.Of(dtype) is not { } format)
        {
            return false;
        }

        int size = dtype.ElementSize();
        int bits = size * 8;
        var keys = new HashSet<ulong>();
        for (int i = 0; i + size <= data.Length; i += size)
        {
            keys.Add(Palette.ToKey(Elements.Read(data[i..], size), bits, Palette.KeyKind.SignMagnitude));
        }

        ulong[] sorted = [.. keys];
        Array.Sort(sorted);
        return sorted.Length >= 3 && (Palette.TryAffine(sorted, bits, format, out _, out _, out _)
            || (Palette.HasWideScales(dtype) && Palette.TryAffineWide(sorted, bits, format, out _, out _, out _)));
    }
}
