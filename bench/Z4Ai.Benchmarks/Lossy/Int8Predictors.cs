using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Delta;

namespace Z4Ai.Benchmarks.Lossy;

/// <summary>
/// Measures, on the real fine-tune, what the int8 tier's levels would cost if they were coded after a prediction that
/// keeps the tier's error bound (every reconstructed delta value within <c>s/2</c> of the true one, <c>s = max|d_row| / 127</c>):
/// low-rank predictions <c>p = U Vᵀ</c> (factors stored, or a basis learned from the rows already decoded) with the
/// residual quantized on the same step, the base weights as a predictor,
/// per-column statistics as entropy-coder context, and predictions of each level from its neighbours in the 28×28
/// input image (a row of <c>fc1.weight</c> is an image-shaped pattern), which leave the reconstruction unchanged.
/// </summary>
/// <remarks>
/// "coded" figures are the library's own symbol coder (<c>LossySymbols.WriteSymbols</c> at effort Max, the coder the
/// int8 record uses) on the residual symbols; "adaptive" figures are ideal code lengths of an adaptive model (counts
/// with a 0.4 prior over the 255 residuals, learned while coding, so achievable by an arithmetic coder); side
/// information (factors in 16-bit floats, coefficients) is charged at its raw size. Deterministic: fixed seeds, no
/// timing.
/// </remarks>
internal static class Int8Predictors
{
    private const int ImageSide = 28;

    public static void Run(string basePath, string fineTunePath, double budgetBits, long int8Bytes, long losslessBytes)
    {
        const string name = "fc1.weight";
        Tensor baseTensor = SafeTensorsCompat.LoadTensor(basePath, name);
        float[] b = baseTensor.ToSingleArray();
        float[] f = SafeTensorsCompat.LoadTensor(fineTunePath, name).ToSingleArray();
        int cols = (int)baseTensor.Shape[^1];
        int n = b.Length;
        int rows = n / cols;
        float[] d = new float[n];
        for (int i = 0; i < n; i++)
        {
            d[i] = f[i] - b[i];
        }

        float[] s = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            float max = 0;
            for (int j = 0; j < cols; j++)
            {
                max = Math.Max(max, Math.Abs(d[(r * cols) + j]));
            }

            s[r] = max / LossyQuantizer.Int8Max;
        }

        int[] levels = Quantize(d, null, s, cols);
        var results = new List<(string Label, double Total)>();
        Console.WriteLine($"Predictions of the int8 levels of {name} ({rows} x {cols}, {n:N0} weights), error bound s/2 kept; bits per weight:");
        Console.WriteLine();
        Console.WriteLine("| prediction (error bound s/2 kept) | variance explained | residual order-0 entropy | residual coded (library coder) | adaptive, column context | side information | total (best of coded/adaptive + side) | escapes (\\|q\\| > 127) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        results.Add(Row("none (today's int8 levels)", levels, s, cols, 0, 0, 0));

        // Per-column statistics as side information: the column's RMS delta, one byte per column (log scale).
        results.Add(ColumnSideRow(levels, d, s, cols));

        // Low-rank predictions from subspace iteration with a fixed seed; factors rounded to IEEE half precision.
        foreach (int rank in new[] { 1, 2, 4, 8, 16, 32 })
        {
            (float[] p, double explained) = LowRank(d, rows, cols, rank);
            int[] q = Quantize(d, p, s, cols);
            results.Add(Row($"low rank {rank} (U Vᵀ, factors in fp16)", q, s, cols, explained, 16.0 * rank * (rows + cols) / n, Escapes(q)));
        }

        // Low rank learned by the decoder: the basis is the top right singular vectors of the rows already decoded
        // (recomputed every 16 rows), so only each row's coefficients (fp16) are side information.
        foreach (int rank in new[] { 8, 16, 32 })
        {
            (float[] p, double explained) = BackwardLowRank(d, s, rows, cols, rank);
            int[] q = Quantize(d, p, s, cols);
            results.Add(Row($"low rank {rank}, basis from the rows already decoded (coefficients in fp16)", q, s, cols, explained, 16.0 * rank * rows / n, Escapes(q)));
        }

        // The base weights: per row, the least-squares multiple of the base row (decoupled weight decay would put -λw here).
        {
            float[] p = new float[n];
            double res = 0;
            double tot = 0;
            for (int r = 0; r < rows; r++)
            {
                double num = 0;
                double den = 0;
                for (int j = 0; j < cols; j++)
                {
                    num += (double)d[(r * cols) + j] * b[(r * cols) + j];
                    den += (double)b[(r * cols) + j] * b[(r * cols) + j];
                }

                float a = den > 0 ? (float)(num / den) : 0;
                for (int j = 0; j < cols; j++)
                {
                    p[(r * cols) + j] = a * b[(r * cols) + j];
                    double e = d[(r * cols) + j] - (double)p[(r * cols) + j];
                    res += e * e;
                    tot += (double)d[(r * cols) + j] * d[(r * cols) + j];
                }
            }

            int[] q = Quantize(d, p, s, cols);
            results.Add(Row("base weights (one coefficient per row, f32)", q, s, cols, 1 - (res / tot), 32.0 * rows / n, Escapes(q)));
        }

        // Neighbours in the input image: integer predictions of a level from already decoded levels of the same row;
        // the residual is taken modulo 255 into [-127, 127], so the levels (and the reconstruction) stay as they are.
        if (cols == ImageSide * ImageSide)
        {
            var predictors = new (string Label, Func<int[], int, int, int, int> Predict)[]
            {
                ("left pixel", (l, r, y, x) => At(l, r, y, x - 1)),
                ("pixel above", (l, r, y, x) => At(l, r, y - 1, x)),
                ("mean of left and above", (l, r, y, x) => (At(l, r, y, x - 1) + At(l, r, y - 1, x)) >> 1),
                ("median edge detector (JPEG-LS)", (l, r, y, x) => Med(At(l, r, y, x - 1), At(l, r, y - 1, x), At(l, r, y - 1, x - 1))),
            };
            foreach ((string label, Func<int[], int, int, int, int> predict) in predictors)
            {
                int[] q = Spatial(levels, cols, predict);
                results.Add(Row($"image neighbours: {label}", q, s, cols, Explained(levels, q), 0, 0));
            }

            (int[] weights, int[] lsq) = LeastSquaresSpatial(levels, cols);
            results.Add(Row($"image neighbours: least squares over 6 (weights/64: {string.Join(" ", weights)})", lsq, s, cols, Explained(levels, lsq), 16.0 * weights.Length / n, 0));

            // Both: the rank-8 prediction, then the least-squares neighbour prediction of the residual levels.
            (float[] p8, _) = LowRank(d, rows, cols, 8);
            int[] q8 = Quantize(d, p8, s, cols);
            for (int i = 0; i < q8.Length; i++)
            {
                q8[i] = Math.Clamp(q8[i], -LossyQuantizer.Int8Max, LossyQuantizer.Int8Max);
            }

            (_, int[] both) = LeastSquaresSpatial(q8, cols);
            results.Add(Row("low rank 8, then least-squares image neighbours", both, s, cols, double.NaN, (16.0 * 8 * (rows + cols) / n) + (16.0 * 6 / n), Escapes(Quantize(d, p8, s, cols))));
        }

        // How good a free prediction would have to be: at a fixed step the coded size follows log2 of the residual's
        // spread, bits ≈ log2(σ) + c; c measured on today's levels gives the σ (and the variance explained) 4x needs.
        double sigma = Math.Sqrt(levels.Average(x => (double)x * x));
        double offset = results[0].Total - Math.Log2(sigma);
        double sigmaNeeded = Math.Pow(2, budgetBits - offset);
        Console.WriteLine();
        Console.WriteLine(
            $"int8 levels: RMS {sigma:0.0} steps, coded at {results[0].Total:0.00} bits = log2(RMS) + {offset:0.00}; {budgetBits:0.00} bits needs a residual RMS of about "
            + $"{sigmaNeeded:0.0} steps, i.e. a prediction explaining {100 * (1 - (sigmaNeeded * sigmaNeeded / (sigma * sigma))):0}% of the levels' variance with no side information");
        (string bestLabel, double best) = results.MinBy(x => x.Total);
        Console.WriteLine(
            $"int8 predictions: best measured {best:0.00} bits per weight ({bestLabel}) against at most {budgetBits:0.00} for 4x; "
            + $"today {results[0].Total:0.00}. The quantizer's step is fixed by the error bound, so the rate is the residual's entropy "
            + $"and 4x needs a prediction whose residual costs {results[0].Total - budgetBits:0.00} bits less than the levels; the best found saves {results[0].Total - best:0.00}.");
        long estimate = int8Bytes - (long)Math.Round((results[0].Total - best) * n / 8);
        Console.WriteLine(
            $"int8 delta with the best prediction: about {estimate:N0} bytes (today's {int8Bytes:N0} less {results[0].Total - best:0.00} bit per weight of {name}), "
            + $"{(double)losslessBytes / estimate:0.00}x smaller than the lossless delta");
    }

    private static int At(int[] l, int r, int y, int x) =>
        y < 0 || x < 0 || x >= ImageSide ? 0 : l[(r * ImageSide * ImageSide) + (y * ImageSide) + x];

    private static int Med(int a, int b, int c) =>
        c >= Math.Max(a, b) ? Math.Min(a, b) : c <= Math.Min(a, b) ? Math.Max(a, b) : a + b - c;

    private static int Wrap(int v)
    {
        v %= 255;
        return v > 127 ? v - 255 : v < -127 ? v + 255 : v;
    }

    private static int[] Spatial(int[] levels, int cols, Func<int[], int, int, int, int> predict)
    {
        int[] q = new int[levels.Length];
        for (int i = 0; i < levels.Length; i++)
        {
            int r = i / cols;
            int j = i % cols;
            q[i] = Wrap(levels[i] - Math.Clamp(predict(levels, r, j / ImageSide, j % ImageSide), -127, 127));
        }

        return q;
    }

    // Integer weights (/64) fitted by least squares over left, above, above-left, above-right, two left, two above.
    private static (int[] Weights, int[] Residual) LeastSquaresSpatial(int[] levels, int cols)
    {
        var features = new Func<int[], int, int, int, int>[]
        {
            (l, r, y, x) => At(l, r, y, x - 1), (l, r, y, x) => At(l, r, y - 1, x), (l, r, y, x) => At(l, r, y - 1, x - 1),
            (l, r, y, x) => At(l, r, y - 1, x + 1), (l, r, y, x) => At(l, r, y, x - 2), (l, r, y, x) => At(l, r, y - 2, x),
        };
        int k = features.Length;
        double[,] m = new double[k, k + 1];
        double[] v = new double[k];
        for (int i = 0; i < levels.Length; i++)
        {
            int r = i / cols;
            int y = (i % cols) / ImageSide;
            int x = (i % cols) % ImageSide;
            for (int a = 0; a < k; a++)
            {
                v[a] = features[a](levels, r, y, x);
            }

            for (int a = 0; a < k; a++)
            {
                m[a, k] += v[a] * levels[i];
                for (int c = 0; c < k; c++)
                {
                    m[a, c] += v[a] * v[c];
                }
            }
        }

        for (int p = 0; p < k; p++)
        {
            for (int a = 0; a < k; a++)
            {
                if (a != p && m[p, p] != 0)
                {
                    double factor = m[a, p] / m[p, p];
                    for (int c = 0; c <= k; c++)
                    {
                        m[a, c] -= factor * m[p, c];
                    }
                }
            }
        }

        int[] w = new int[k];
        for (int a = 0; a < k; a++)
        {
            w[a] = m[a, a] == 0 ? 0 : (int)Math.Round(64 * m[a, k] / m[a, a]);
        }

        int[] q = Spatial(levels, cols, (l, r, y, x) =>
        {
            int sum = 32;
            for (int a = 0; a < k; a++)
            {
                sum += w[a] * features[a](l, r, y, x);
            }

            return sum >> 6;
        });
        return (w, q);
    }

    private static int[] Quantize(float[] d, float[]? p, float[] s, int cols)
    {
        int[] q = new int[d.Length];
        for (int i = 0; i < d.Length; i++)
        {
            float scale = s[i / cols];
            q[i] = scale == 0 ? 0 : (int)MathF.Round((d[i] - (p is null ? 0 : p[i])) / scale, MidpointRounding.ToEven);
        }

        return q;
    }

    private static int Escapes(int[] q) => q.Count(x => Math.Abs(x) > LossyQuantizer.Int8Max);

    private static double Explained(int[] levels, int[] residual)
    {
        double a = levels.Sum(x => (double)x * x);
        double e = residual.Sum(x => (double)x * x);
        return 1 - (e / a);
    }

    private static (float[] Prediction, double Explained) LowRank(float[] d, int rows, int cols, int rank)
    {
        // Subspace iteration (U = D V, orthonormalize, V = Dᵀ U), 30 rounds from a SplitMix64 start.
        double[] u = new double[rows * rank];
        double[] v = new double[cols * rank];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (LossyQuantizer.Mix((ulong)i) >> 11) * (1.0 / (1UL << 53)) - 0.5;
        }

        for (int it = 0; it < 30; it++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int k = 0; k < rank; k++)
                {
                    double acc = 0;
                    for (int j = 0; j < cols; j++)
                    {
                        acc += d[(r * cols) + j] * v[(j * rank) + k];
                    }

                    u[(r * rank) + k] = acc;
                }
            }

            // Column k of U (element r at r * rank + k).
            Orthonormalize(u, rank, rows, vectorStride: 1, elementStride: rank);

            for (int j = 0; j < cols; j++)
            {
                for (int k = 0; k < rank; k++)
                {
                    double acc = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        acc += d[(r * cols) + j] * u[(r * rank) + k];
                    }

                    v[(j * rank) + k] = acc;
                }
            }
        }

        // Balance each component's norm between the factors, round both to half precision, multiply in double.
        float[] uh = new float[u.Length];
        float[] vh = new float[v.Length];
        for (int k = 0; k < rank; k++)
        {
            double nv = 0;
            for (int j = 0; j < cols; j++)
            {
                nv += v[(j * rank) + k] * v[(j * rank) + k];
            }

            double g = Math.Sqrt(Math.Sqrt(nv));
            for (int r = 0; r < rows; r++)
            {
                uh[(r * rank) + k] = (float)(Half)(u[(r * rank) + k] * g);
            }

            for (int j = 0; j < cols; j++)
            {
                vh[(j * rank) + k] = g > 0 ? (float)(Half)(v[(j * rank) + k] / g) : 0;
            }
        }

        float[] p = new float[d.Length];
        double res = 0;
        double tot = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                double acc = 0;
                for (int k = 0; k < rank; k++)
                {
                    acc += (double)uh[(r * rank) + k] * vh[(j * rank) + k];
                }

                p[(r * cols) + j] = (float)acc;
                double e = d[(r * cols) + j] - acc;
                res += e * e;
                tot += (double)d[(r * cols) + j] * d[(r * cols) + j];
            }
        }

        return (p, 1 - (res / tot));
    }

    private static (float[] Prediction, double Explained) BackwardLowRank(float[] d, float[] s, int rows, int cols, int rank)
    {
        const int Block = 16;
        float[] p = new float[d.Length];
        double[] recon = new double[d.Length];
        double res = 0;
        double tot = 0;
        double[] basis = [];
        int k = 0;
        for (int r = 0; r < rows; r++)
        {
            if (r % Block == 0 && r > 0)
            {
                // Right singular vectors of the decoded rows: subspace iteration on their Gram matrix in column space.
                k = Math.Min(rank, r);
                basis = TopRightVectors(recon, r, cols, k);
            }

            double[] coefficients = new double[k];
            for (int m = 0; m < k; m++)
            {
                double acc = 0;
                for (int j = 0; j < cols; j++)
                {
                    acc += d[(r * cols) + j] * basis[(m * cols) + j];
                }

                coefficients[m] = (double)(Half)acc;
            }

            for (int j = 0; j < cols; j++)
            {
                double acc = 0;
                for (int m = 0; m < k; m++)
                {
                    acc += coefficients[m] * basis[(m * cols) + j];
                }

                int i = (r * cols) + j;
                p[i] = (float)acc;
                int level = s[r] == 0 ? 0 : (int)MathF.Round((d[i] - p[i]) / s[r], MidpointRounding.ToEven);
                recon[i] = p[i] + (level * (double)s[r]);
                double e = d[i] - acc;
                res += e * e;
                tot += (double)d[i] * d[i];
            }
        }

        return (p, 1 - (res / tot));
    }

    private static double[] TopRightVectors(double[] x, int rows, int cols, int k)
    {
        double[] v = new double[k * cols];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (LossyQuantizer.Mix((ulong)i) >> 11) * (1.0 / (1UL << 53)) - 0.5;
        }

        double[] u = new double[rows];
        double[] next = new double[k * cols];
        for (int it = 0; it < 20; it++)
        {
            Array.Clear(next);
            for (int m = 0; m < k; m++)
            {
                // next_m = Xᵀ X v_m
                for (int r = 0; r < rows; r++)
                {
                    double acc = 0;
                    for (int j = 0; j < cols; j++)
                    {
                        acc += x[(r * cols) + j] * v[(m * cols) + j];
                    }

                    u[r] = acc;
                }

                for (int r = 0; r < rows; r++)
                {
                    for (int j = 0; j < cols; j++)
                    {
                        next[(m * cols) + j] += x[(r * cols) + j] * u[r];
                    }
                }
            }

            Orthonormalize(next, k, cols, vectorStride: cols, elementStride: 1);

            (v, next) = (next, v);
        }

        return v;
    }

    /// <summary>Gram-Schmidt over <paramref name="count"/> vectors of <paramref name="length"/> elements stored with the
    /// given strides (element i of vector m at m * vectorStride + i * elementStride), in place, in a fixed order.</summary>
    private static void Orthonormalize(double[] a, int count, int length, int vectorStride, int elementStride)
    {
        for (int m = 0; m < count; m++)
        {
            for (int o = 0; o < m; o++)
            {
                double dot = 0;
                for (int i = 0; i < length; i++)
                {
                    dot += a[(m * vectorStride) + (i * elementStride)] * a[(o * vectorStride) + (i * elementStride)];
                }

                for (int i = 0; i < length; i++)
                {
                    a[(m * vectorStride) + (i * elementStride)] -= dot * a[(o * vectorStride) + (i * elementStride)];
                }
            }

            double norm = 0;
            for (int i = 0; i < length; i++)
            {
                norm += a[(m * vectorStride) + (i * elementStride)] * a[(m * vectorStride) + (i * elementStride)];
            }

            norm = Math.Sqrt(norm);
            for (int i = 0; i < length; i++)
            {
                int at = (m * vectorStride) + (i * elementStride);
                a[at] = norm > 0 ? a[at] / norm : 0;
            }
        }
    }

    private static (string, double) Row(string label, int[] q, float[] s, int cols, double explained, double side, int escapes)
    {
        // Escapes would be coded as exact values (an index and a 32-bit value each); charge them 64 bits.
        int[] clamped = q.Select(x => Math.Clamp(x, -LossyQuantizer.Int8Max, LossyQuantizer.Int8Max)).ToArray();
        double h0 = Entropy(clamped);
        double coded = Coded(clamped, cols);
        double adaptive = ColumnContext(clamped, s, cols);
        double escapeBits = 64.0 * escapes / q.Length;
        double total = Math.Min(coded, adaptive) + side + escapeBits;
        string ex = double.IsNaN(explained) ? "" : $"{100 * explained:0.0}%";
        Console.WriteLine($"| {label} | {ex} | {h0:0.00} | {coded:0.00} | {adaptive:0.00} | {side + escapeBits:0.00} | {total:0.00} | {escapes} |");
        return (label, total);
    }

    private static (string, double) ColumnSideRow(int[] levels, float[] d, float[] s, int cols)
    {
        // Exact column RMS of the delta (one byte per column: its log2 in quarter steps) against the row's step.
        int rows = levels.Length / cols;
        int[] bucket = new int[cols];
        for (int j = 0; j < cols; j++)
        {
            double a = 0;
            for (int r = 0; r < rows; r++)
            {
                a += (double)d[(r * cols) + j] * d[(r * cols) + j];
            }

            bucket[j] = a > 0 ? (int)Math.Floor(4 * Math.Log2(Math.Sqrt(a / rows))) : int.MinValue / 2;
        }

        double bits = Adaptive(levels, i => Math.Clamp((int)Math.Floor((bucket[i % cols] / 4.0) - Math.Log2(s[i / cols] > 0 ? s[i / cols] : 1)) * 2, -40, 40));
        double side = 8.0 * cols / levels.Length;
        Console.WriteLine($"| none; column RMS of d as context (side information, 1 byte per column) | | {Entropy(levels):0.00} | | {bits:0.00} | {side:0.00} | {bits + side:0.00} | 0 |");
        return ("column RMS as context", bits + side);
    }

    private static double Coded(int[] q, int cols)
    {
        byte[] symbols = q.Select(LossyQuantizer.ZigZag).ToArray();
        using var writer = new ArrayPoolBufferWriter<byte>();
        LossySymbols.WriteSymbols(symbols, 8, cols, CompressionEffort.Max, writer);
        return 8.0 * writer.WrittenCount / q.Length;
    }

    // Causal column context: the mean |value| of the column's already decoded rows against this row's step.
    private static double ColumnContext(int[] q, float[] s, int cols)
    {
        double[] sums = new double[cols];
        int rows = q.Length / cols;
        var model = new Dictionary<int, (int[] Counts, int Total)>();
        double bits = 0;
        for (int i = 0; i < q.Length; i++)
        {
            int r = i / cols;
            int j = i % cols;
            int ctx = r == 0 || s[r] == 0 ? -100 : Math.Max(-20, (int)Math.Floor(2 * Math.Log2((sums[j] / r / s[r]) + 1e-9)));
            bits += Cost(model, ctx, q[i]);
            sums[j] += Math.Abs(q[i]) * s[r];
        }

        _ = rows;
        return bits / q.Length;
    }

    private static double Adaptive(int[] q, Func<int, int> context)
    {
        var model = new Dictionary<int, (int[] Counts, int Total)>();
        double bits = 0;
        for (int i = 0; i < q.Length; i++)
        {
            bits += Cost(model, context(i), q[i]);
        }

        return bits / q.Length;
    }

    private static double Cost(Dictionary<int, (int[] Counts, int Total)> model, int ctx, int symbol)
    {
        if (!model.TryGetValue(ctx, out (int[] Counts, int Total) m))
        {
            m = (new int[255], 0);
        }

        double bits = -Math.Log2((m.Counts[symbol + 127] + 0.4) / (m.Total + (0.4 * 255)));
        m.Counts[symbol + 127]++;
        model[ctx] = (m.Counts, m.Total + 1);
        return bits;
    }

    private static double Entropy(int[] symbols)
    {
        var counts = symbols.GroupBy(x => x).Select(g => (double)g.Count()).ToArray();
        return counts.Sum(c => -c / symbols.Length * Math.Log2(c / symbols.Length));
    }
}
