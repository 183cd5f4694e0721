using System.Security.Cryptography;

namespace Z4Ai.Tests.Registry;

/// <summary>Small, deterministic model families: a bf16 base, fine-tunes and consecutive checkpoints.</summary>
internal static class RegistryTestData
{
    public static Dictionary<string, Tensor> Base(int seed = 1, int layers = 2, int hidden = 64)
    {
        var rng = new Random(seed);
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["embed.weight"] = Bf16(rng, 256 * hidden, [256, hidden], 0.02),
        };
        for (int l = 0; l < layers; l++)
        {
            model[$"layers.{l}.attn.q.weight"] = Bf16(rng, hidden * hidden, [hidden, hidden], 0.03);
            model[$"layers.{l}.attn.v.weight"] = Bf16(rng, hidden * hidden, [hidden, hidden], 0.03);
            model[$"layers.{l}.mlp.up.weight"] = Bf16(rng, hidden * 2 * hidden, [2 * hidden, hidden], 0.03);
            model[$"layers.{l}.norm.weight"] = F32(rng, hidden, 1.0, 0.05);
        }

        model["position_ids"] = Tensor.FromArray<long>(DType.I64, [1, 64], Enumerable.Range(0, 64).Select(i => (long)i).ToArray());
        return model;
    }

    /// <summary>Moves <paramref name="fraction"/> of the bf16 values of the attention tensors by a small step.</summary>
    public static Dictionary<string, Tensor> FineTune(IReadOnlyDictionary<string, Tensor> model, double fraction, int seed)
    {
        var rng = new Random(seed);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor t) in model)
        {
            result[name] = t.DType == DType.BF16 && name.Contains(".attn.", StringComparison.Ordinal) ? Nudge(t, rng, fraction) : t;
        }

        return result;
    }

    /// <summary>A training step: every bf16 value may move a little, norms drift.</summary>
    public static Dictionary<string, Tensor> Checkpoint(IReadOnlyDictionary<string, Tensor> model, int seed)
    {
        var rng = new Random(seed);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor t) in model)
        {
            result[name] = t.DType switch
            {
                DType.BF16 => Nudge(t, rng, 0.3),
                DType.F32 => Tensor.FromArray<float>(DType.F32, t.GetShape(), t.ToArray<float>().Select(v => v + ((float)rng.NextDouble() * 1e-4f)).ToArray()),
                _ => t,
            };
        }

        return result;
    }

    public static Tensor Bf16(Random rng, int count, long[] shape, double std)
    {
        var bits = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            bits[i] = ToBf16((float)(Gaussian(rng) * std));
        }

        return Tensor.FromArray<ushort>(DType.BF16, shape, bits);
    }

    public static Tensor F32(Random rng, int count, double mean, double std) =>
        Tensor.FromArray<float>(DType.F32, [count], Enumerable.Range(0, count).Select(_ => (float)(mean + (Gaussian(rng) * std))).ToArray());

    public static string Write(string directory, string fileName, IReadOnlyDictionary<string, Tensor> model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string path = Path.Combine(directory, fileName);
        SafeTensorsCompat.SaveFile(model, path, metadata ?? new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    public static string Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "z4ai-registry-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static Tensor Nudge(Tensor t, Random rng, double fraction)
    {
        ushort[] bits = t.ToArray<ushort>();
        for (int i = 0; i < bits.Length; i++)
        {
            if (rng.NextDouble() < fraction)
            {
                bits[i] = (ushort)(bits[i] + (rng.Next(2) == 0 ? 1 : -1));
            }
        }

        return Tensor.FromArray<ushort>(DType.BF16, t.GetShape(), bits);
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static ushort ToBf16(float value)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
