using System.Buffers;
using System.Diagnostics;
using Z4Ai.Entropy;
using Z4Ai.Codecs;
using Z4Ai.Planes;

namespace Z4Ai.Benchmarks.Codecs;

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

internal static class AffineProbe
{
    public static int Run(string[] args)
    {
        byte[] data = CodecScenarios.F32(CodecScenarios.Dequantise(CodecScenarios.Weights(4096 * 4, new Random(7)), 127, true));
        var keys = new SortedSet<ulong>();
        for (int i = 0; i < 4096; i++)
        {
            ulong v = BitConverter.ToUInt32(data, 4 * i);
            keys.Add(Z4Ai.Transforms.Palette.ToKey(v, 32, Z4Ai.Transforms.Palette.KeyKind.SignMagnitude));
        }
        ulong[] sorted = keys.ToArray();
        bool ok = Z4Ai.Transforms.Palette.TryAffine(sorted, 32, Z4Ai.Transforms.FloatFormat.Of(DType.F32)!.Value, out long c0, out ulong span, out ulong scale);
        Console.WriteLine($"distinct {sorted.Length} affine {ok} c0 {c0} span {span} scale {BitConverter.UInt32BitsToSingle((uint)scale)}");
        // find failing value
        float s = float.MaxValue;
        foreach (ulong k in sorted) { float f = BitConverter.UInt32BitsToSingle((uint)Z4Ai.Transforms.Palette.FromKey(k, 32, Z4Ai.Transforms.Palette.KeyKind.SignMagnitude)); if (f != 0 && Math.Abs(f) < s) s = Math.Abs(f); }
        Console.WriteLine($"smallest {s}");
        foreach (ulong k in sorted)
        {
            ulong v = Z4Ai.Transforms.Palette.FromKey(k, 32, Z4Ai.Transforms.Palette.KeyKind.SignMagnitude);
            if (!Z4Ai.Transforms.Palette.TryCode(v, BitConverter.SingleToUInt32Bits(s), Z4Ai.Transforms.FloatFormat.Of(DType.F32)!.Value, out long code))
            {
                Console.WriteLine($"fail {BitConverter.UInt32BitsToSingle((uint)v)} / {s} = {BitConverter.UInt32BitsToSingle((uint)v) / (double)s}");
            }
        }
        return 0;
    }
}

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

internal static class U8Probe
{
    public static int Run(string[] args)
    {
        using SafeTensorsReader reader = SafeTensorsCompat.Open(args[0]);
        foreach (TensorInfo info in reader.Tensors.Where(t => t.DType == DType.U8).OrderByDescending(t => t.ByteLength).Take(6))
        {
            byte[] data = reader.GetTensor(info.Name).Data.ToArray();
            int row = (int)info.Shape[^1];
            var w = new ArrayBufferWriter<byte>();
            string line = $"{info.Name,-40} [{string.Join(",", info.Shape)}] {data.Length,6}";
            foreach (int r in new[] { 0, row, (int)(info.Shape.Count >= 2 ? info.Shape[^2] * info.Shape[^1] / info.Shape[^1] : 0) })
            {
                w.ResetWrittenCount();
                EntropyCoder.Encode(data, EntropyMethod.ContextMixing, 8, r, w);
                line += $" cm(r={r}) {w.WrittenCount,6}";
            }
            w.ResetWrittenCount();
            EntropyCoder.Encode(data, EntropyMethod.RansOrder0, 8, 0, w);
            line += $" r0 {w.WrittenCount,6}";
            // transposed (column-major) order: channels contiguous
            if (info.Shape.Count >= 2)
            {
                int cols = row, rows = data.Length / row;
                byte[] t = new byte[data.Length];
                for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
                w.ResetWrittenCount();
                EntropyCoder.Encode(t, EntropyMethod.ContextMixing, 8, rows, w);
                line += $" cmT {w.WrittenCount,6}";
                w.ResetWrittenCount();
                EntropyCoder.Encode(data, EntropyMethod.RansOrder1, 8, 0, w);
                line += $" r1 {w.WrittenCount,6}";
            }
            line += $" xz {Analyze.External("xz", "-9e -c", data)}";
            Console.WriteLine(line);
        }
        return 0;
    }
}

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
