using System.Buffers.Binary;

namespace Z4Ai.Tests.Delta;

/// <summary>Small base/fine-tune model pairs on disk, covering every path of the lossy tiers.</summary>
internal static class LossyTestModels
{
    /// <summary>A fresh temporary folder, deleted by the caller.</summary>
    public static string CreateDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"z4ai-lossy-tests-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// Writes base.safetensors and target.safetensors: F32, BF16 and F16 matrices large enough to be quantized, a
    /// rank-1 bias, a small matrix, an integer tensor, a tensor only in the target, a tensor only in the base, and a
    /// matrix whose shape differs between the two.
    /// </summary>
    public static (string Base, string Target) WritePair(string directory, int seed = 1, bool nanInTarget = false)
    {
        var random = new Random(seed);
        var baseTensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var targetTensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);

        void AddFloat(string name, DType dtype, long[] shape, float std, float deltaStd, bool inBase = true, bool inTarget = true)
        {
            int n = (int)shape.Aggregate(1L, (a, b) => a * b);
            float[] b = new float[n];
            float[] t = new float[n];
            for (int i = 0; i < n; i++)
            {
                b[i] = Gaussian(random) * std;
                t[i] = b[i] + (Gaussian(random) * deltaStd);
            }

            if (nanInTarget && name == "nan.weight")
            {
                t[3] = float.NaN;
            }

            if (inBase)
            {
                baseTensors[name] = new Tensor(dtype, shape, Encode(b, dtype));
            }

            if (inTarget)
            {
                targetTensors[name] = new Tensor(dtype, shape, Encode(t, dtype));
            }
        }

        AddFloat("layer.weight", DType.F32, [64, 96], 0.05f, 0.002f);
        AddFloat("layer.bias", DType.F32, [64], 0.05f, 0.002f);
        AddFloat("emb.weight", DType.BF16, [80, 65], 0.05f, 0.004f);
        AddFloat("half.weight", DType.F16, [72, 67], 0.05f, 0.003f);
        AddFloat("small.weight", DType.F32, [8, 8], 0.05f, 0.002f);
        AddFloat("nan.weight", DType.F32, [70, 70], 0.05f, 0.002f);
        AddFloat("new.weight", DType.F32, [64, 70], 0.05f, 0.002f, inBase: false);
        AddFloat("old.weight", DType.F32, [10, 10], 0.05f, 0.002f, inTarget: false);
        AddFloat("reshaped.weight", DType.F32, [64, 80], 0.05f, 0.002f, inTarget: false);
        AddFloat("reshaped.weight", DType.F32, [80, 64], 0.05f, 0.002f, inBase: false);
        int[] counts = Enumerable.Range(0, 16).Select(i => i * 3).ToArray();
        baseTensors["counts"] = Tensor.FromArray<int>(DType.I32, [16], counts);
        counts[5] = 99;
        targetTensors["counts"] = Tensor.FromArray<int>(DType.I32, [16], counts);

        string basePath = Path.Combine(directory, $"base-{seed}.safetensors");
        string targetPath = Path.Combine(directory, $"target-{seed}.safetensors");
        var plain = new SaveOptions { Format = StorageFormat.SafeTensors };
        SafeTensorsCompat.SaveFile(baseTensors, basePath, options: plain);
        SafeTensorsCompat.SaveFile(targetTensors, targetPath, new Dictionary<string, string> { ["framework"] = "pt" }, plain);
        return (basePath, targetPath);
    }

    public static byte[] Encode(float[] values, DType dtype)
    {
        int size = dtype.ElementSize();
        byte[] bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case DType.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
                    break;
                case DType.F16:
                    BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
                    break;
                default:
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), Z4Ai.Delta.LossyElements.ToBFloat16(values[i]));
                    break;
            }
        }

        return bytes;
    }

    public static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    public static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
