using System.Runtime.InteropServices;

namespace Z4Ai.Cli.Demo;

/// <summary>
/// A small, deterministic model family generated on the fly: a decoder-only "base" with realistic weight
/// statistics (Gaussian rows whose scale varies from row to row, bf16 storage, fp32 norms, a tied embedding and an
/// INT8-quantised layer stored dequantised), and a "fine-tune" of it that moves a fraction of the weights by small
/// steps. Same seed, same bytes on a given platform (an own SplitMix64 generator; the Gaussian transform uses the
/// runtime's Math functions).
/// </summary>
public static class DemoModelFamily
{
    /// <summary>The shape of the generated model.</summary>
    /// <param name="Vocabulary">Embedding rows.</param>
    /// <param name="Hidden">Model width.</param>
    /// <param name="Layers">Decoder layers.</param>
    /// <param name="Mlp">MLP width.</param>
    public sealed record Config(int Vocabulary = 4096, int Hidden = 256, int Layers = 4, int Mlp = 1024);

    /// <summary>Generates the base model's tensors.</summary>
    public static Dictionary<string, Tensor> CreateBase(Config config, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        var rng = new SplitMix64(seed);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int h = config.Hidden;
        Tensor embedding = Bf16Matrix(rng, config.Vocabulary, h, 0.02f);
        tensors["model.embed_tokens.weight"] = embedding;
        tensors["lm_head.weight"] = embedding; // tied, as in many LLMs: stored once by dedup
        for (int layer = 0; layer < config.Layers; layer++)
        {
            string p = $"model.layers.{layer}.";
            bool quantised = layer == config.Layers - 1;
            foreach (string proj in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
            {
                tensors[p + "self_attn." + proj + ".weight"] = Bf16Matrix(rng, h, h, 0.03f);
            }

            tensors[p + "mlp.gate_proj.weight"] = quantised ? Int8DequantBf16(rng, config.Mlp, h, 0.03f) : Bf16Matrix(rng, config.Mlp, h, 0.03f);
            tensors[p + "mlp.up_proj.weight"] = quantised ? Int8DequantBf16(rng, config.Mlp, h, 0.03f) : Bf16Matrix(rng, config.Mlp, h, 0.03f);
            tensors[p + "mlp.down_proj.weight"] = quantised ? Int8DequantBf16(rng, h, config.Mlp, 0.02f) : Bf16Matrix(rng, h, config.Mlp, 0.02f);
            tensors[p + "input_layernorm.weight"] = NormVector(rng, h);
            tensors[p + "post_attention_layernorm.weight"] = NormVector(rng, h);
        }

        tensors["model.norm.weight"] = NormVector(rng, h);
        long[] positions = Enumerable.Range(0, 512).Select(i => (long)i).ToArray();
        tensors["model.position_ids"] = Tensor.FromArray<long>(DType.I64, [1, 512], positions);
        return tensors;
    }

    /// <summary>
    /// Derives a fine-tune: the attention projections of every layer move by a small step in
    /// <paramref name="changedFraction"/> of their weights; everything else is unchanged.
    /// </summary>
    public static Dictionary<string, Tensor> CreateFineTune(IReadOnlyDictionary<string, Tensor> baseModel, double changedFraction = 0.05, ulong seed = 2)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        var rng = new SplitMix64(seed);
        var tuned = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor tensor) in baseModel)
        {
            if (tensor.DType != DType.BF16 || !(name.Contains("q_proj", StringComparison.Ordinal) || name.Contains("v_proj", StringComparison.Ordinal)))
            {
                tuned[name] = tensor;
                continue;
            }

            ushort[] bits = tensor.ToArray<ushort>();
            for (int i = 0; i < bits.Length; i++)
            {
                if (rng.NextDouble() < changedFraction)
                {
                    float v = BitConverter.Int32BitsToSingle(bits[i] << 16);
                    bits[i] = ToBf16(v + ((float)rng.NextGaussian() * 0.002f));
                }
            }

            tuned[name] = Tensor.FromArray<ushort>(DType.BF16, tensor.GetShape(), bits);
        }

        return tuned;
    }

    private static Tensor Bf16Matrix(SplitMix64 rng, int rows, int cols, float std)
    {
        var bits = new ushort[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            // Real layers have per-row (per output channel) scale differences: a log-normal factor.
            float rowStd = std * (float)Math.Exp(rng.NextGaussian() * 0.3);
            for (int c = 0; c < cols; c++)
            {
                bits[(r * cols) + c] = ToBf16((float)rng.NextGaussian() * rowStd);
            }
        }

        return Tensor.FromArray<ushort>(DType.BF16, [rows, cols], bits);
    }

    private static Tensor Int8DequantBf16(SplitMix64 rng, int rows, int cols, float std)
    {
        var bits = new ushort[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            float rowStd = std * (float)Math.Exp(rng.NextGaussian() * 0.3);
            float scale = ToFloat(ToBf16(rowStd * 4 / 127f));
            for (int c = 0; c < cols; c++)
            {
                int q = Math.Clamp((int)Math.Round(rng.NextGaussian() * rowStd / scale), -127, 127);
                bits[(r * cols) + c] = ToBf16(q * scale);
            }
        }

        return Tensor.FromArray<ushort>(DType.BF16, [rows, cols], bits);
    }

    private static Tensor NormVector(SplitMix64 rng, int n)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = 1f + ((float)rng.NextGaussian() * 0.05f);
        }

        return Tensor.FromArray<float>(DType.F32, [n], values);
    }

    private static float ToFloat(ushort bf16) => BitConverter.Int32BitsToSingle(bf16 << 16);

    /// <summary>Round to nearest even, as frameworks convert fp32 to bf16.</summary>
    private static ushort ToBf16(float value)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        if ((bits & 0x7F800000) == 0x7F800000 && (bits & 0x007FFFFF) != 0)
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>SplitMix64: tiny, fast and identical on every platform.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;
        private double? _spare;

        public ulong NextUInt64()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

        public double NextGaussian()
        {
            if (_spare is double spare)
            {
                _spare = null;
                return spare;
            }

            double u1 = 1.0 - NextDouble();
            double u2 = NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            _spare = radius * Math.Sin(2 * Math.PI * u2);
            return radius * Math.Cos(2 * Math.PI * u2);
        }
    }
}
