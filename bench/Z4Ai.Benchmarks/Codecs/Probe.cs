using System.Buffers;
using System.Diagnostics;
using Z4Ai.Entropy;
using Z4Ai.Codecs;
using Z4Ai.Planes;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary><c>codec-probe</c>: single-thread speed of the building blocks (split, rANS, context mixing, zstd,
/// SHA-256) on a 4 MiB BF16 chunk, in MB/s of wall and of process CPU time (the latter is what a loaded machine
/// does not distort).</summary>
internal static class Probe
{
    public static int Run(string[] args)
    {
        var rnd = new Random(1);
        int n = 2 * 1024 * 1024;
        byte[] bf = new byte[n * 2];
        for (int i = 0; i < n; i++)
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())) * Math.Cos(2 * Math.PI * rnd.NextDouble());
            uint bits = BitConverter.SingleToUInt32Bits((float)(g * 0.02));
            ushort b = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
            bf[2 * i] = (byte)b; bf[2 * i + 1] = (byte)(b >> 8);
        }
        byte[] exp = new byte[n], man = new byte[n];
        Time("split", n * 2, () => FloatFields.Split(DType.BF16, bf, exp, man));
        var w = new ArrayBufferWriter<byte>(n * 2);
        foreach (EntropyMethod m in new[] { EntropyMethod.RansOrder0, EntropyMethod.RansOrder1 })
        {
            foreach (byte[] s in new[] { exp, man })
            {
                w.ResetWrittenCount();
                Time($"enc {m}", n, () => { w.ResetWrittenCount(); EntropyCoder.Encode(s, m, 8, 0, w); });
                byte[] enc = w.WrittenSpan.ToArray();
                byte[] dec = new byte[n];
                Time($"dec {m} size {enc.Length}", n, () => EntropyCoder.Decode(enc, m, 8, 0, dec));
            }
        }
        {
            byte[] small = exp.AsSpan(0, 262144).ToArray();
            Time("enc CM", small.Length, () => { w.ResetWrittenCount(); EntropyCoder.Encode(small, EntropyMethod.ContextMixing, 8, 1024, w); });
            byte[] enc = w.WrittenSpan.ToArray();
            byte[] dec = new byte[small.Length];
            Time($"dec CM size {enc.Length}", small.Length, () => EntropyCoder.Decode(enc, EntropyMethod.ContextMixing, 8, 1024, dec));
        }
        Time("choose max", n, () => EntropyCoder.Choose(exp, CompressionEffort.Max, 8, 0));
        foreach (int level in new[] { 1, 3 })
        {
            w.ResetWrittenCount();
            Time($"zstd{level} man", n, () => { w.ResetWrittenCount(); ZstdBackend.Compress(man, w, level); });
            Console.WriteLine($"  size {w.WrittenCount}");
        }
        foreach (int level in new[] { 1, 3 })
        {
            w.ResetWrittenCount();
            ZstdBackend.Compress(exp, w, level);
            byte[] z = w.WrittenSpan.ToArray();
            byte[] back = new byte[n];
            Time($"zstd{level} exp dec size {z.Length}", n, () => ZstdBackend.Decompress(z, back));
        }
        Time("sha", n * 2, () => System.Security.Cryptography.SHA256.HashData(bf));
        return 0;
    }

    private static void Time(string name, long bytes, Action a)
    {
        a();
        var sw = Stopwatch.StartNew();
        var proc = Process.GetCurrentProcess();
        TimeSpan cpu0 = proc.TotalProcessorTime;
        int reps = 0;
        while (sw.ElapsedMilliseconds < 400) { a(); reps++; }
        proc.Refresh();
        double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"{name,-40} {bytes * reps / sw.Elapsed.TotalSeconds / 1e6,8:0} MB/s wall {bytes * reps / cpu / 1e6,8:0} MB/s cpu");
    }
}

/// <summary><c>step-probe</c>: milliseconds of each encoder step on a 4 MiB BF16 and F32 chunk (plans, split,
/// models, rANS, whole recipes at Fast and Default).</summary>
internal static class StepProbe
{
    public static int Run(string[] args)
    {
        foreach (DType dtype in new[] { DType.BF16, DType.F32 })
        {
            int bytes = 4 << 20;
            byte[] data = dtype == DType.BF16 ? CodecScenarios.Bf16(CodecScenarios.Weights(bytes / 2, new Random(3))) : CodecScenarios.F32(CodecScenarios.Weights(bytes / 4, new Random(3)));
            Console.WriteLine($"== {dtype}");
            T("deadbits plan", bytes, () => Z4Ai.Transforms.DeadBits.TryPlan(data, dtype, out _));
            T("zeromask plan", bytes, () => Z4Ai.Transforms.ZeroMask.TryPlan(data, dtype, out _));
            T("palette plan", bytes, () => Z4Ai.Transforms.Palette.TryPlan(data, dtype, [bytes / dtype.ElementSize() / 4096, 4096], out _, true));
            int n = bytes / dtype.ElementSize();
            byte[] e = new byte[n], m = new byte[n * FloatFields.GetPlaneCount(dtype)];
            T("split", bytes, () => FloatFields.Split(dtype, data, e, m));
            uint[] cc = new uint[256];
            T("count o0 exp", bytes, () => RansCodec.CountOrder0(e, cc));
            T("model o0 exp", bytes, () => RansCodec.BuildModel(e, false, 8));
            T("model o1 exp", bytes, () => RansCodec.BuildModel(e, true, 8));
            var model = RansCodec.BuildModel(e, false, 8);
            var w = new ArrayBufferWriter<byte>(n * 2);
            T("rans encode exp", bytes, () => { w.ResetWrittenCount(); RansCodec.Encode(e, model, w); });
            T("symbols exp (default)", bytes, () => { w.ResetWrittenCount(); new RecipeEncoder(CompressionEffort.Default).EncodeSymbols(e, 8, 4096, w); });
            T("symbols plane (default)", bytes, () => { w.ResetWrittenCount(); new RecipeEncoder(CompressionEffort.Default).EncodeSymbols(m.AsSpan(0, n), 8, 0, w); });
            T("typed (default)", bytes, () => { w.ResetWrittenCount(); new RecipeEncoder(CompressionEffort.Default).EncodeTyped(data, dtype, 4096, 0, w); });
            T("typed (fast)", bytes, () => { w.ResetWrittenCount(); new RecipeEncoder(CompressionEffort.Fast).EncodeTyped(data, dtype, 4096, 0, w); });
        }
        return 0;
    }

    private static void T(string name, long bytes, Action a)
    {
        a();
        var proc = Process.GetCurrentProcess();
        TimeSpan cpu0 = proc.TotalProcessorTime;
        int reps = 0;
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 300) { a(); reps++; }
        proc.Refresh();
        double cpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;
        Console.WriteLine($"{name,-30} {cpu / reps * 1000,8:0.00} ms  ({bytes * reps / cpu / 1e6,7:0} MB/s of raw)");
    }
}

/// <summary><c>repeated-probe</c>: the "repeated structure" scenario through the container (one layer of
/// two BF16 tensors repeated 64 times, 32 MiB): the ratio comes from chunk and tensor deduplication.</summary>
internal static class RepeatedProbe
{
    public static int Run(string[] args)
    {
        long elements = 32L * 1024 * 1024 / 64 / 2 / 2;
        var rng = new Random(5);
        byte[] a = CodecScenarios.Bf16(CodecScenarios.Weights((int)elements, rng));
        byte[] b = CodecScenarios.Bf16(CodecScenarios.Weights((int)elements, rng));
        var tensors = new Dictionary<string, Tensor>();
        for (int layer = 0; layer < 64; layer++)
        {
            tensors[$"layers.{layer:D2}.attn.weight"] = new Tensor(DType.BF16, [elements / 4096, 4096], a);
            tensors[$"layers.{layer:D2}.mlp.weight"] = new Tensor(DType.BF16, [elements / 4096, 4096], b);
        }

        string plain = Path.Combine(Path.GetTempPath(), "repeated.safetensors");
        string packed = Path.Combine(Path.GetTempPath(), "repeated.z4ai");
        SafeTensorsCompat.SaveFile(tensors, plain, null, new SaveOptions { Format = StorageFormat.SafeTensors });
        SafeTensorsCompat.SaveFile(tensors, packed);
        Console.WriteLine($"repeated bf16: {new FileInfo(plain).Length} -> {new FileInfo(packed).Length} ({(double)new FileInfo(plain).Length / new FileInfo(packed).Length:0.0}x)");
        File.Delete(plain);
        File.Delete(packed);
        return 0;
    }
}
