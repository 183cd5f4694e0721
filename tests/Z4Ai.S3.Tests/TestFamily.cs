using System.Security.Cryptography;

namespace Z4Ai.S3.Tests;

/// <summary>A small synthetic bf16 model family (base, fine-tune, checkpoint) for the registry tests on a bucket.</summary>
internal static class TestFamily
{
    public static (ModelRegistry Registry, Dictionary<string, string> Files) Create(IBlobStore store, string dir)
    {
        Dictionary<string, Tensor> b = Base();
        Dictionary<string, Tensor> ft = FineTune(b, 0.05, 2);
        Dictionary<string, Tensor> ck = Checkpoint(ft, 3);
        var files = new Dictionary<string, string>
        {
            ["base"] = Write(dir, "base.safetensors", b),
            ["ft"] = Write(dir, "ft.safetensors", ft),
            ["ck"] = Write(dir, "ck.safetensors", ck),
        };
        ModelRegistry registry = ModelRegistry.Init(store, files["base"], "base");
        registry.Add(files["ft"], "ft");
        registry.Add(files["ck"], "ck");
        return (registry, files);
    }

    public static string Write(string dir, string fileName, Dictionary<string, Tensor> model)
    {
        string path = Path.Combine(dir, fileName);
        SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    public static string Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static Dictionary<string, Tensor> Base()
    {
        var rng = new Random(1);
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["embed.weight"] = Bf16(rng, 256 * 64, [256, 64]) };
        for (int l = 0; l < 2; l++)
        {
            model[$"layers.{l}.attn.q.weight"] = Bf16(rng, 64 * 64, [64, 64]);
            model[$"layers.{l}.mlp.up.weight"] = Bf16(rng, 128 * 64, [128, 64]);
            model[$"layers.{l}.norm.weight"] = Tensor.FromArray<float>(DType.F32, [64], Enumerable.Range(0, 64).Select(_ => 1f + ((float)rng.NextDouble() * 0.1f)).ToArray());
        }

        return model;
    }

    public static Dictionary<string, Tensor> FineTune(Dictionary<string, Tensor> model, double fraction, int seed)
    {
        var rng = new Random(seed);
        return model.ToDictionary(kv => kv.Key, kv => kv.Key.Contains(".attn.", StringComparison.Ordinal) ? Nudge(kv.Value, rng, fraction) : kv.Value, StringComparer.Ordinal);
    }

    public static Dictionary<string, Tensor> Checkpoint(Dictionary<string, Tensor> model, int seed)
    {
        var rng = new Random(seed);
        return model.ToDictionary(kv => kv.Key, kv => kv.Value.DType == DType.BF16 ? Nudge(kv.Value, rng, 0.3) : kv.Value, StringComparer.Ordinal);
    }

    private static Tensor Bf16(Random rng, int count, long[] shape)
    {
        var bits = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            double g = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()) * 0.03;
            bits[i] = (ushort)(BitConverter.SingleToInt32Bits((float)g) >>> 16);
        }

        return Tensor.FromArray<ushort>(DType.BF16, shape, bits);
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
}
