using System.Buffers;
using System.Runtime.CompilerServices;
using Z4Ai.Entropy;
using Z4Ai.Internal;

namespace Z4Ai.Codecs;

/// <summary>
/// The class of each exponent value for a <see cref="RecipeKind.ClassedFields"/> node: the elements' top
/// sign+mantissa plane is coded as one stream per class, so each stream gets the mantissa distribution of its own
/// octaves.
/// </summary>
/// <remarks>
/// <para>Why it pays: within one octave a bell-shaped weight distribution is denser at the octave's low end than at
/// its high end, by a factor that depends on where the octave lies against the spread (flat near zero, steep in the
/// tail). A single table for the plane averages those tilts away (on real BF16 weights the classed plane costs
/// about 0.8% less than stored; docs/benchmarks.md, "Exponent classes").</para>
/// <para>Layout in the node (docs/format.md, 3.3): <c>u8 K</c> (2..16), then one 4-bit class per exponent value
/// (<see cref="MapBytes"/> bytes, two per byte, low nibble first), then each class's element count as a varint;
/// F16 exponents index the map with their low 5 bits, as <see cref="Planes.FloatFields"/> merges them.</para>
/// </remarks>
internal sealed class ExponentClasses
{
    /// <summary>The fewest classes a node may declare.</summary>
    public const int MinClasses = 2;

    /// <summary>The most classes a node may declare (4-bit map entries).</summary>
    public const int MaxClasses = 16;

    /// <summary>The fewest elements the encoder splits: below this the per-class tables cost more than they save.</summary>
    public const int MinElements = 4096;

    // The planner merges at most this many exponent values one by one; rarer ones start in one shared class.
    private const int MaxTrackedExponents = 32;

    // Most sampled counts are small: a table spares the bit-by-bit logarithm.
    private static readonly int[] s_smallLog2 = Enumerable.Range(0, 4096).Select(i => FixedLog2.Log2Q16((ulong)i)).ToArray();

    private readonly byte[] _map;
    private readonly int _mask;

    private ExponentClasses(byte[] map, int count)
    {
        _map = map;
        _mask = map.Length - 1;
        Count = count;
    }

    /// <summary>The number of classes.</summary>
    public int Count { get; }

    /// <summary>The bits of the exponent field: 5 for F16, 8 for BF16 and F32.</summary>
    public static int ExponentBits(DType dtype) => dtype == DType.F16 ? 5 : 8;

    /// <summary>The bytes of the packed class map of <paramref name="dtype"/>.</summary>
    public static int MapBytes(DType dtype) => (1 << ExponentBits(dtype)) / 2;

    /// <summary>The class of exponent value <paramref name="exponent"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ClassOf(int exponent) => _map[exponent & _mask];

    /// <summary>Appends <c>K</c> and the packed map.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(1 + (_map.Length / 2));
        span[0] = (byte)Count;
        for (int e = 0; e < _map.Length; e += 2)
        {
            span[1 + (e / 2)] = (byte)(_map[e] | (_map[e + 1] << 4));
        }

        output.Advance(1 + (_map.Length / 2));
    }

    /// <summary>Reads and validates <c>K</c> and the map of a node over <paramref name="dtype"/>.</summary>
    public static ExponentClasses Read(ref SpanReader reader, DType dtype)
    {
        int at = reader.Position;
        int count = reader.ReadByte();
        if (count is < MinClasses or > MaxClasses)
        {
            ThrowHelper.CorruptFrame($"classed fields node declares {count} exponent classes, expected {MinClasses} to {MaxClasses}", at);
        }

        int size = 1 << ExponentBits(dtype);
        ReadOnlySpan<byte> packed = reader.ReadBytes(size / 2);
        byte[] map = new byte[size];
        for (int e = 0; e < size; e++)
        {
            int cls = (packed[e / 2] >> (4 * (e & 1))) & 15;
            if (cls >= count)
            {
                ThrowHelper.CorruptFrame($"classed fields node maps exponent {e} to class {cls}, expected below {count}", at + 1 + (e / 2));
            }

            map[e] = (byte)cls;
        }

        return new ExponentClasses(map, count);
    }

    /// <summary>Appends the element count of each class, one varint each.</summary>
    public static void WriteLengths(ReadOnlySpan<int> lengths, IBufferWriter<byte> output)
    {
        foreach (int length in lengths)
        {
            VarInt.Write(output, (ulong)length);
        }
    }

    /// <summary>Reads the <see cref="Count"/> class lengths, which must add up to <paramref name="elements"/>.</summary>
    public int[] ReadLengths(ref SpanReader reader, int elements)
    {
        int at = reader.Position;
        var lengths = new int[Count];
        long sum = 0;
        for (int j = 0; j < Count; j++)
        {
            lengths[j] = reader.ReadVarInt32(elements);
            sum += lengths[j];
        }

        if (sum != elements)
        {
            ThrowHelper.CorruptFrame($"classed fields node's class lengths add up to {sum}, expected {elements} elements", at);
        }

        return lengths;
    }

    /// <summary>Counts the elements of each class (<paramref name="lengths"/> has <see cref="Count"/> entries).</summary>
    public void CountClasses(ReadOnlySpan<byte> exponents, Span<int> lengths)
    {
        Span<uint> perExponent = stackalloc uint[256];
        RansCodec.CountOrder0(exponents, perExponent);
        lengths.Clear();
        for (int e = 0; e < 256; e++)
        {
            lengths[ClassOf(e)] += (int)perExponent[e];
        }
    }

    /// <summary>
    /// Writes the bytes of <paramref name="plane"/> class by class, each class in element order, into
    /// <paramref name="grouped"/> (class <c>j</c> at the sum of the lengths before it).
    /// </summary>
    public void Partition(ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> plane, ReadOnlySpan<int> lengths, Span<byte> grouped)
    {
        Span<int> cursor = stackalloc int[MaxClasses];
        Starts(lengths, cursor);
        for (int i = 0; i < plane.Length; i++)
        {
            grouped[cursor[ClassOf(exponents[i])]++] = plane[i];
        }
    }

    /// <summary>Undoes <see cref="Partition"/>: element <c>i</c> takes the next byte of its exponent's class.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Gather(ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> grouped, ReadOnlySpan<int> lengths, Span<byte> plane)
    {
        Span<int> cursor = stackalloc int[MaxClasses];
        Starts(lengths, cursor);
        ref byte map = ref _map[0];
        int mask = _mask;
        for (int i = 0; i < plane.Length; i++)
        {
            int cls = Unsafe.Add(ref map, exponents[i] & mask);
            plane[i] = grouped[cursor[cls]++];
        }
    }

    private static void Starts(ReadOnlySpan<int> lengths, Span<int> starts)
    {
        int start = 0;
        for (int j = 0; j < lengths.Length; j++)
        {
            starts[j] = start;
            start += lengths[j];
        }
    }

    /// <summary>
    /// Groups the exponent values whose top-plane distributions differ enough to pay for a table of their own, from
    /// the histograms of every <paramref name="stride"/>-th element; null when the estimated saving over one table
    /// (<paramref name="savedBytes"/>) would not exceed <paramref name="minimumSaving"/> bytes.
    /// </summary>
    /// <remarks>
    /// Greedy agglomeration on the estimated code length: every frequent exponent value starts as a class (the rarest
    /// share one), and the pair whose merge costs least (order-0 bits of the merged histogram, minus those of the
    /// two, minus one table saved) is merged while that saves bits or more than <see cref="MaxClasses"/> remain.
    /// Integer costs only, so every machine plans the same classes.
    /// </remarks>
    public static ExponentClasses? Plan(ReadOnlySpan<byte> exponents, ReadOnlySpan<byte> plane, DType dtype, int stride, long minimumSaving, out long savedBytes)
    {
        int size = 1 << ExponentBits(dtype);
        int mask = size - 1;
        uint[] histograms = ArrayPool<uint>.Shared.Rent(size * 256);
        try
        {
            Span<uint> h = histograms.AsSpan(0, size * 256);
            h.Clear();
            for (int i = 0; i < plane.Length; i += stride)
            {
                h[((exponents[i] & mask) << 8) | plane[i]]++;
            }

            return Agglomerate(h, stride, size, minimumSaving, out savedBytes);
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(histograms);
        }
    }

    private static ExponentClasses? Agglomerate(ReadOnlySpan<uint> h, int stride, int size, long minimumSaving, out long savedBytes)
    {
        savedBytes = 0;

        // The exponent values present, most frequent first (ties by value, so the order is fixed).
        long[] counts = new long[size];
        for (int e = 0; e < size; e++)
        {
            foreach (uint c in h.Slice(e << 8, 256))
            {
                counts[e] += c;
            }
        }

        int[] present = Enumerable.Range(0, size).Where(e => counts[e] > 0)
            .OrderByDescending(e => counts[e]).ThenBy(e => e).ToArray();
        if (present.Length < MinClasses)
        {
            return null;
        }

        int tracked = Math.Min(present.Length, MaxTrackedExponents);
        var members = new List<int>[tracked];
        var hist = new uint[tracked][];
        for (int c = 0; c < tracked; c++)
        {
            members[c] = [present[c]];
            hist[c] = h.Slice(present[c] << 8, 256).ToArray();
        }

        for (int r = tracked; r < present.Length; r++)
        {
            members[tracked - 1].Add(present[r]);
            Add(hist[tracked - 1], h.Slice(present[r] << 8, 256));
        }

        var cost = new long[tracked];
        var all = new uint[256];
        for (int c = 0; c < tracked; c++)
        {
            cost[c] = CostQ16(hist[c], stride);
            Add(all, hist[c]);
        }

        long single = CostQ16(all, stride);

        // The most any classing can save is one table per tracked value with its tables free; dense weights at an
        // effort with a margin usually stop here, before the pairwise merging.
        long bound = single;
        for (int c = 0; c < tracked; c++)
        {
            bound -= cost[c] - TableCostQ16(hist[c]);
        }

        if (bound <= (minimumSaving + 1) * 8L * FixedLog2.One)
        {
            return null;
        }

        // delta[a, b] (a < b): what merging a and b adds to the total; only the merged class's pairs change.
        var delta = new long[tracked, tracked];
        var merged = new uint[256];
        for (int a = 0; a < tracked; a++)
        {
            for (int b = a + 1; b < tracked; b++)
            {
                delta[a, b] = MergeDelta(hist, cost, a, b, merged, stride);
            }
        }

        var alive = new bool[tracked];
        Array.Fill(alive, true);
        int count = tracked;
        while (count > 1)
        {
            long bestDelta = long.MaxValue;
            int bestA = -1, bestB = -1;
            for (int a = 0; a < tracked; a++)
            {
                for (int b = a + 1; b < tracked && alive[a]; b++)
                {
                    if (alive[b] && delta[a, b] < bestDelta)
                    {
                        (bestDelta, bestA, bestB) = (delta[a, b], a, b);
                    }
                }
            }

            if (bestDelta >= 0 && count <= MaxClasses)
            {
                break;
            }

            Add(hist[bestA], hist[bestB]);
            members[bestA].AddRange(members[bestB]);
            cost[bestA] += cost[bestB] + bestDelta;
            alive[bestB] = false;
            count--;
            for (int c = 0; c < tracked; c++)
            {
                if (alive[c] && c != bestA)
                {
                    (int a, int b) = c < bestA ? (c, bestA) : (bestA, c);
                    delta[a, b] = MergeDelta(hist, cost, a, b, merged, stride);
                }
            }
        }

        long total = 0;
        for (int c = 0; c < tracked; c++)
        {
            total += alive[c] ? cost[c] : 0;
        }

        if (count < MinClasses || (single - total) / (8L * FixedLog2.One) <= minimumSaving)
        {
            return null;
        }

        savedBytes = (single - total) / (8L * FixedLog2.One);

        // Classes numbered by their smallest exponent value; exponents absent from the sample join class 0.
        var map = new byte[size];
        int next = 0;
        foreach (int c in Enumerable.Range(0, tracked).Where(c => alive[c]).OrderBy(c => members[c].Min()))
        {
            foreach (int e in members[c])
            {
                map[e] = (byte)next;
            }

            next++;
        }

        return new ExponentClasses(map, count);
    }

    // Estimated bytes of one class's stream in Q16 bits: its order-0 code length scaled up from the sample, plus a
    // frequency table (about six bits per symbol present) and the coder's final states.
    private static long CostQ16(ReadOnlySpan<uint> histogram, int stride)
    {
        long total = 0;
        long sumCLogC = 0;
        foreach (uint c in histogram)
        {
            if (c != 0)
            {
                total += c;
                sumCLogC += c * (long)Log2Q16(c);
            }
        }

        long codeQ16 = total == 0 ? 0 : (total * Log2Q16((ulong)total)) - sumCLogC;
        return (codeQ16 * stride) + TableCostQ16(histogram);
    }

    private static long TableCostQ16(ReadOnlySpan<uint> histogram)
    {
        int distinct = 0;
        foreach (uint c in histogram)
        {
            distinct += c != 0 ? 1 : 0;
        }

        return (24 + (6L * distinct) + (RansCodec.Lanes * 32)) * FixedLog2.One;
    }

    private static long MergeDelta(uint[][] hist, long[] cost, int a, int b, uint[] merged, int stride)
    {
        Sum(hist[a], hist[b], merged);
        return CostQ16(merged, stride) - cost[a] - cost[b];
    }

    private static int Log2Q16(ulong x) => x < (ulong)s_smallLog2.Length ? s_smallLog2[x] : FixedLog2.Log2Q16(x);

    private static void Add(uint[] target, ReadOnlySpan<uint> source)
    {
        for (int s = 0; s < 256; s++)
        {
            target[s] += source[s];
        }
    }

    private static void Sum(uint[] a, uint[] b, uint[] result)
    {
        for (int s = 0; s < 256; s++)
        {
            result[s] = a[s] + b[s];
        }
    }
}
