namespace Z4Ai.Delta;

/// <summary>
/// The quantizers of the lossy tiers, span to span: symmetric group quantization (int8, int4), top-k and random
/// selection (sparse), sign with a per-row scale (1-bit), and the matching reconstruction. Symbols are zigzagged
/// levels (0, -1, 1, -2, ...) so small magnitudes get small symbols.
/// </summary>
/// <remarks>
/// A tensor is viewed as rows of <c>cols</c> elements (its last dimension). Encoding may use any arithmetic; every
/// reconstruction step is one IEEE single-precision multiply (<c>level * scale</c>) and one add to the widened base
/// element, rounded once to the dtype, in element order, so decoders everywhere produce the same bytes.
/// </remarks>
internal static class LossyQuantizer
{
    /// <summary>Largest level of the 8-bit tiers.</summary>
    public const int Int8Max = 127;

    /// <summary>Largest level of the 4-bit tier (15 levels, zero exact).</summary>
    public const int Int4Max = 7;

    public static byte ZigZag(int level) => (byte)(level >= 0 ? level << 1 : (-level << 1) - 1);

    public static int UnZigZag(byte symbol) => (symbol >> 1) ^ -(symbol & 1);

    /// <summary>Computes <c>target - base</c> in single precision; false when any target or delta value is not finite.</summary>
    public static bool ComputeDelta(ReadOnlySpan<float> target, ReadOnlySpan<float> @base, Span<float> delta)
    {
        bool finite = true;
        for (int i = 0; i < delta.Length; i++)
        {
            float d = target[i] - @base[i];
            delta[i] = d;
            finite &= float.IsFinite(d);
        }

        return finite;
    }

    /// <summary>The number of groups in one row of <paramref name="cols"/> elements.</summary>
    public static int GroupsPerRow(int cols, int groupSize) => (cols + groupSize - 1) / groupSize;

    /// <summary>
    /// Quantizes each group of <paramref name="groupSize"/> consecutive elements of a row (the last group of a row may
    /// be shorter) with scale <c>max|d| / qmax</c> and level <c>round(d / scale)</c>, ties to even. Elements flagged
    /// in <paramref name="exclude"/> (outliers stored exactly) get symbol 0 and do not count towards the scale.
    /// </summary>
    public static void QuantizeGroups(
        ReadOnlySpan<float> delta, int cols, int groupSize, int qmax, ReadOnlySpan<bool> exclude, Span<float> scales, Span<byte> symbols)
    {
        int groupsPerRow = GroupsPerRow(cols, groupSize);
        int rows = delta.Length / cols;
        bool hasExclude = !exclude.IsEmpty;
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groupsPerRow; g++)
            {
                int start = (r * cols) + (g * groupSize);
                int length = Math.Min(groupSize, cols - (g * groupSize));
                float max = 0;
                for (int i = start; i < start + length; i++)
                {
                    if (!hasExclude || !exclude[i])
                    {
                        max = Math.Max(max, Math.Abs(delta[i]));
                    }
                }

                float scale = max / qmax;
                scales[(r * groupsPerRow) + g] = scale;
                for (int i = start; i < start + length; i++)
                {
                    symbols[i] = (hasExclude && exclude[i]) || scale == 0 ? (byte)0 : ZigZag(Level(delta[i], scale, qmax));
                }
            }
        }
    }

    /// <summary>Quantizes the kept values of a sparse tensor with one scale per row (<c>max|v| / 127</c> over the row's kept values).</summary>
    public static void QuantizeSparse(ReadOnlySpan<float> values, ReadOnlySpan<int> indices, int cols, Span<float> rowScales, Span<byte> symbols)
    {
        rowScales.Clear();
        for (int j = 0; j < indices.Length; j++)
        {
            int row = indices[j] / cols;
            rowScales[row] = Math.Max(rowScales[row], Math.Abs(values[j]));
        }

        for (int r = 0; r < rowScales.Length; r++)
        {
            rowScales[r] /= Int8Max;
        }

        for (int j = 0; j < indices.Length; j++)
        {
            float scale = rowScales[indices[j] / cols];
            symbols[j] = scale == 0 ? (byte)0 : ZigZag(Level(values[j], scale, Int8Max));
        }
    }

    /// <summary>
    /// The indices (ascending) of the <paramref name="k"/> largest |d|; among equal magnitudes at the threshold the
    /// lower indices win, so the choice is deterministic.
    /// </summary>
    public static int[] SelectTopK(ReadOnlySpan<float> delta, int k)
    {
        if (k <= 0)
        {
            return [];
        }

        int n = delta.Length;
        k = Math.Min(k, n);

        // The bit patterns of non-negative finite floats sort as their values do.
        uint[] magnitudes = new uint[n];
        for (int i = 0; i < n; i++)
        {
            magnitudes[i] = BitConverter.SingleToUInt32Bits(delta[i]) & 0x7FFF_FFFF;
        }

        Array.Sort(magnitudes);
        uint threshold = magnitudes[n - k];
        int above = n - UpperBound(magnitudes, threshold);
        int ties = k - above;
        int[] result = new int[k];
        int count = 0;
        for (int i = 0; i < n && count < k; i++)
        {
            uint m = BitConverter.SingleToUInt32Bits(delta[i]) & 0x7FFF_FFFF;
            if (m > threshold || (m == threshold && ties-- > 0))
            {
                result[count++] = i;
            }
        }

        return result;
    }

    /// <summary>
    /// Drop-and-rescale selection: keeps element i when a counter-based hash of (seed, name, i) falls below
    /// <paramref name="keepPpm"/> parts per million.
    /// </summary>
    public static int[] SelectRandom(int n, int keepPpm, ulong seed)
    {
        ulong threshold = (ulong)keepPpm * (ulong.MaxValue / 1_000_000);
        var kept = new List<int>((int)Math.Min(n, ((long)n * keepPpm / 1_000_000) + 16));
        for (int i = 0; i < n; i++)
        {
            if (Mix(seed + (ulong)i) < threshold)
            {
                kept.Add(i);
            }
        }

        return kept.ToArray();
    }

    /// <summary>SplitMix64's output function: a bijective 64-bit mixer.</summary>
    public static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }

    /// <summary>FNV-1a over the UTF-16 code units of a name, to give each tensor its own random stream.</summary>
    public static ulong HashName(string name)
    {
        ulong h = 0xCBF2_9CE4_8422_2325;
        foreach (char c in name)
        {
            h = (h ^ c) * 0x0000_0100_0000_01B3;
        }

        return h;
    }

    /// <summary>
    /// Signs of the delta (symbol 0 for d ≥ 0, 1 for d &lt; 0) and per-row scales. Without input moments the scale
    /// is mean |d|, which minimizes the row's squared error. With <paramref name="moments"/> of the layer's inputs
    /// (the diagonal <c>E[x_j²]</c>, <c>cols</c> values, or the full <c>E[x xᵀ]</c>, <c>cols²</c> values) it minimizes
    /// the expected squared error of the row's output instead: <c>s = dᵀHσ / σᵀHσ</c>.
    /// </summary>
    public static void QuantizeSigns(ReadOnlySpan<float> delta, int cols, ReadOnlySpan<float> moments, Span<float> rowScales, Span<byte> symbols)
    {
        int rows = delta.Length / cols;
        double[]? hs = moments.Length == cols * cols && cols > 0 ? new double[cols] : null;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = delta.Slice(r * cols, cols);
            double sumAbs = 0;
            for (int j = 0; j < cols; j++)
            {
                symbols[(r * cols) + j] = row[j] < 0 ? (byte)1 : (byte)0;
                sumAbs += Math.Abs(row[j]);
            }

            double scale = sumAbs / cols;
            double numerator = 0;
            double denominator = 0;
            if (moments.Length == cols)
            {
                for (int j = 0; j < cols; j++)
                {
                    numerator += moments[j] * Math.Abs(row[j]);
                    denominator += moments[j];
                }
            }
            else if (hs is not null)
            {
                // H·σ first, then dᵀ(Hσ) and σᵀ(Hσ): two passes over H per row.
                for (int j = 0; j < cols; j++)
                {
                    ReadOnlySpan<float> hRow = moments.Slice(j * cols, cols);
                    double acc = 0;
                    for (int m = 0; m < cols; m++)
                    {
                        acc += row[m] < 0 ? -hRow[m] : hRow[m];
                    }

                    hs[j] = acc;
                }

                for (int j = 0; j < cols; j++)
                {
                    numerator += row[j] * hs[j];
                    denominator += row[j] < 0 ? -hs[j] : hs[j];
                }
            }

            if (denominator > 0 && double.IsFinite(numerator / denominator))
            {
                scale = Math.Max(0, numerator / denominator);
            }

            rowScales[r] = (float)scale;
        }
    }

    /// <summary>
    /// Rescales each row's kept values by the factor that minimises the expected squared error of the row's output,
    /// <c>α = dᵀHs / sᵀHs</c> for the full input moments H (<c>cols²</c> values): the kept values then also stand in
    /// for the correlated inputs whose weights were dropped. With diagonal or no moments α would be 1, so nothing
    /// changes.
    /// </summary>
    public static void RefineSparse(ReadOnlySpan<float> delta, ReadOnlySpan<int> indices, Span<float> values, int cols, ReadOnlySpan<float> moments)
    {
        if (cols == 0 || moments.Length != cols * cols)
        {
            return;
        }

        double[] hs = new double[cols];
        int start = 0;
        while (start < indices.Length)
        {
            int row = indices[start] / cols;
            int end = start;
            while (end < indices.Length && indices[end] / cols == row)
            {
                end++;
            }

            for (int j = 0; j < cols; j++)
            {
                ReadOnlySpan<float> hRow = moments.Slice(j * cols, cols);
                double acc = 0;
                for (int m = start; m < end; m++)
                {
                    acc += hRow[indices[m] - (row * cols)] * (double)values[m];
                }

                hs[j] = acc;
            }

            ReadOnlySpan<float> d = delta.Slice(row * cols, cols);
            double numerator = 0;
            for (int j = 0; j < cols; j++)
            {
                numerator += d[j] * hs[j];
            }

            double denominator = 0;
            for (int m = start; m < end; m++)
            {
                denominator += values[m] * hs[indices[m] - (row * cols)];
            }

            double alpha = numerator / denominator;
            if (denominator > 0 && double.IsFinite(alpha) && alpha > 0)
            {
                for (int m = start; m < end; m++)
                {
                    values[m] = (float)(values[m] * alpha);
                }
            }

            start = end;
        }
    }

    /// <summary>
    /// Rebuilds group-quantized elements: where the level is non-zero, <c>base + level * scale</c> rounded to the
    /// dtype; elsewhere the destination (already holding the base bytes) is left alone.
    /// </summary>
    public static void ApplyGroups(
        ReadOnlySpan<byte> @base, DType dtype, ReadOnlySpan<byte> symbols, ReadOnlySpan<float> scales, int cols, int groupSize, Span<byte> destination)
    {
        int groupsPerRow = GroupsPerRow(cols, groupSize);
        for (int i = 0; i < symbols.Length; i++)
        {
            if (symbols[i] != 0)
            {
                int row = i / cols;
                float scale = scales[(row * groupsPerRow) + ((i - (row * cols)) / groupSize)];
                Add(@base, dtype, i, UnZigZag(symbols[i]) * scale, destination);
            }
        }
    }

    /// <summary>Rebuilds the kept elements of a sparse tensor (the destination already holds the base bytes).</summary>
    public static void ApplySparse(
        ReadOnlySpan<byte> @base, DType dtype, ReadOnlySpan<int> indices, ReadOnlySpan<byte> symbols, ReadOnlySpan<float> rowScales, int cols, Span<byte> destination)
    {
        for (int j = 0; j < indices.Length; j++)
        {
            if (symbols[j] != 0)
            {
                int i = indices[j];
                Add(@base, dtype, i, UnZigZag(symbols[j]) * rowScales[i / cols], destination);
            }
        }
    }

    /// <summary>Rebuilds every element of a 1-bit tensor as <c>base ± scale</c>.</summary>
    public static void ApplySigns(ReadOnlySpan<byte> @base, DType dtype, ReadOnlySpan<byte> symbols, ReadOnlySpan<float> rowScales, int cols, Span<byte> destination)
    {
        for (int i = 0; i < symbols.Length; i++)
        {
            float scale = rowScales[i / cols];
            Add(@base, dtype, i, symbols[i] == 0 ? scale : -scale, destination);
        }
    }

    private static void Add(ReadOnlySpan<byte> @base, DType dtype, int index, float step, Span<byte> destination) =>
        LossyElements.Write(destination, dtype, index, LossyElements.Read(@base, dtype, index) + step);

    private static int Level(float value, float scale, int qmax)
    {
        float q = MathF.Round(value / scale, MidpointRounding.ToEven);
        return (int)Math.Clamp(q, -qmax, qmax);
    }

    private static int UpperBound(uint[] sorted, uint value)
    {
        int lo = 0;
        int hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (sorted[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
