using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Z4Ai.Benchmarks.Registry;

/// <summary>
/// <c>registry [--mib 100] [--versions 50] [--depth 8] [--effort default] [--seed 1] [--dir D]</c>: a bf16 model family
/// of one base plus N versions (every fifth a sparse fine-tune branching from the base, the rest consecutive
/// training checkpoints of the current branch) added to a registry in a local directory. Reports the total stored
/// size against storing each version in full, Add and Get throughput, <c>list</c> time, and one-tensor read latency at
/// the first and the last version. Every version restored is checked byte for byte.
/// </summary>
/// <remarks>
/// Checkpoints move half of every bf16 tensor's values by one representable step (an optimizer step at a realistic
/// learning rate changes most weights by about an ulp); fine-tunes move 5% of the attention weights by up to three
/// steps. Norm vectors are fp32 and drift slightly every checkpoint. Not BenchmarkDotNet: one timed pass per
/// operation, so the whole family runs in minutes.
/// </remarks>
public static class RegistryBench
{
    public static int Run(string[] args)
    {
        int mib = 100;
        int versions = 50;
        int depth = RegistryOptions.DefaultMaxChainDepth;
        int seed = 1;
        var effort = CompressionEffort.Default;
        string? root = null;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mib": mib = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--versions": versions = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--depth": depth = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--effort": effort = Enum.Parse<CompressionEffort>(args[++i], ignoreCase: true); break;
                case "--dir": root = args[++i]; break;
            }
        }

        root ??= Path.Combine(Path.GetTempPath(), "z4ai-bench-registry-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        try
        {
            return Bench(root, mib, versions, depth, seed, effort);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Bench(string root, int mib, int versions, int depth, int seed, CompressionEffort effort)
    {
        var rng = new XorShift((ulong)seed);
        string store = Path.Combine(root, "zoo");
        string scratch = Path.Combine(root, "model.safetensors");
        var options = new RegistryOptions { MaxChainDepth = depth, Effort = effort };
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        var plain = new SaveOptions { Format = StorageFormat.SafeTensors };

        Dictionary<string, Tensor> baseModel = CreateBase(mib, rng);
        SafeTensorsCompat.SaveFile(baseModel, scratch, metadata, plain);
        long fileBytes = new FileInfo(scratch).Length;
        var digests = new Dictionary<string, byte[]> { ["base"] = Sha(scratch) };
        var clock = Stopwatch.StartNew();
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(store), scratch, "base", options);
        double initSeconds = clock.Elapsed.TotalSeconds;

        var addSeconds = new List<double>();
        var storedPerKind = new Dictionary<string, List<long>> { ["fine-tune"] = [], ["checkpoint"] = [] };
        Dictionary<string, Tensor> current = baseModel;
        string branchHead = "base";
        string last = "base";
        for (int v = 1; v <= versions; v++)
        {
            bool fineTune = v % 5 == 1;
            string name = fineTune ? $"ft{v}" : $"ck{v}";
            current = fineTune ? FineTune(baseModel, rng) : Checkpoint(current, rng);
            string parent = fineTune ? "base" : branchHead;
            SafeTensorsCompat.SaveFile(current, scratch, metadata, plain);
            digests[name] = Sha(scratch);
            clock.Restart();
            RegistryAddReport report = registry.Add(scratch, name, parent);
            addSeconds.Add(clock.Elapsed.TotalSeconds);
            storedPerKind[fineTune ? "fine-tune" : "checkpoint"].Add(report.StoredBytes + report.ManifestBytes);
            branchHead = name;
            last = name;
            Console.Error.Write($"\radded {v}/{versions}: {name} ({report.StoredBytes + report.ManifestBytes >> 10} KiB stored, {clock.Elapsed.TotalSeconds:0.00} s)   ");
        }

        Console.Error.WriteLine();
        File.Delete(scratch);

        clock.Restart();
        IReadOnlyList<RegistryVersion> listed = registry.List();
        double listSeconds = clock.Elapsed.TotalSeconds;

        var getSeconds = new List<double>();
        foreach (string name in new[] { "base", listed[listed.Count / 2].Name, last })
        {
            string output = Path.Combine(root, name + ".out");
            clock.Restart();
            registry.Get(name, output);
            getSeconds.Add(clock.Elapsed.TotalSeconds);
            if (!Sha(output).AsSpan().SequenceEqual(digests[name]))
            {
                Console.Error.WriteLine($"FAILED: {name} did not restore byte for byte");
                return 1;
            }

            File.Delete(output);
        }

        string probe = baseModel.OrderByDescending(p => p.Value.Data.Length).Skip(1).First().Key;
        // Latency at several points of the history: with chains bounded by --depth it must not grow with the
        // number of versions added, only with the depth a tensor sits at.
        var latencyProbes = new[] { "base", listed[listed.Count / 4].Name, listed[listed.Count / 2].Name, last }.Distinct().ToList();
        var latencies = latencyProbes.Select(name => (Name: name, Seconds: Median(() => registry.GetTensor(name, probe)))).ToList();

        clock.Restart();
        RegistryVerifyReport verify = registry.Verify();
        double verifySeconds = clock.Elapsed.TotalSeconds;

        long objects = registry.GetStoredBytes();
        long manifests = listed.Sum(v => v.ManifestBytes);
        long full = fileBytes * (versions + 1);
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;

        Console.WriteLine($"# Registry: 1 base + {versions} versions of a {fileBytes / 1e6:0.0} MB bf16 model ({baseModel.Count} tensors), max chain depth {depth}, effort {effort}");
        Console.WriteLine($"# {Environment.ProcessorCount} cores, .NET {Environment.Version}, {Environment.OSVersion}, load average at the end: {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("| --- | --- |");
        Row("storing each version in full", Mb(full));
        Row("registry total (objects + manifests)", $"{Mb(objects + manifests)} ({(double)full / (objects + manifests):0.0}x smaller)");
        Row("  base (init)", $"{Mb(listed[0].StoredBytes + listed[0].ManifestBytes)}, {fileBytes / initSeconds / 1e6:0} MB/s");
        Row("  per fine-tune (median)", Mb(MedianOf(storedPerKind["fine-tune"])));
        Row("  per checkpoint (median)", Mb(MedianOf(storedPerKind["checkpoint"])));
        Row("  manifests", Mb(manifests));
        Row("add throughput (median)", $"{fileBytes / MedianOf(addSeconds) / 1e6:0} MB/s of model");
        Row("get throughput (base / middle / last)", string.Join(" / ", getSeconds.Select(s => $"{fileBytes / s / 1e6:0}")) + " MB/s, byte-exact");
        Row($"list ({listed.Count} versions)", $"{listSeconds * 1000:0} ms");
        foreach ((string name, double seconds) in latencies)
        {
            int position = listed.ToList().FindIndex(v => v.Name == name);
            Row($"get-tensor '{probe}' ({baseModel[probe].Data.Length >> 20} MiB) of {name} (version {position} of {listed.Count - 1})", $"{seconds * 1000:0.0} ms");
        }

        Row("verify (all versions)", $"{verifySeconds:0.0} s, {(verify.Passed ? "PASS" : "FAIL")}, {verify.ObjectsChecked} objects");
        Row("peak working set of this process (it holds the generated models too; bench/measure-registry-memory.sh measures the CLI verbs)", Mb(peak));
        return verify.Passed ? 0 : 1;
    }

    private static string LoadAverage()
    {
        // Throughput on a shared 2-core machine means little without the load it was measured under.
        const string path = "/proc/loadavg";
        return File.Exists(path) ? string.Join(' ', File.ReadAllText(path).Split(' ').Take(3)) : "unknown";
    }

    private static Dictionary<string, Tensor> CreateBase(int mib, XorShift rng)
    {
        long target = (long)mib << 20;
        int h = mib >= 64 ? 1024 : 512;
        long perLayer = 16L * h * h * 2;
        int layers = (int)Math.Max(1, target * 9 / 10 / perLayer);
        int vocabulary = (int)Math.Max(256, (target - (layers * perLayer)) / (2L * h));
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["model.embed_tokens.weight"] = Bf16(rng, vocabulary, h, 0.02),
            ["model.norm.weight"] = Norm(rng, h),
        };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            foreach (string proj in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
            {
                model[p + "self_attn." + proj + ".weight"] = Bf16(rng, h, h, 0.03);
            }

            model[p + "mlp.gate_proj.weight"] = Bf16(rng, 4 * h, h, 0.03);
            model[p + "mlp.up_proj.weight"] = Bf16(rng, 4 * h, h, 0.03);
            model[p + "mlp.down_proj.weight"] = Bf16(rng, h, 4 * h, 0.02);
            model[p + "input_layernorm.weight"] = Norm(rng, h);
            model[p + "post_attention_layernorm.weight"] = Norm(rng, h);
        }

        return model;
    }

    private static Dictionary<string, Tensor> FineTune(Dictionary<string, Tensor> baseModel, XorShift rng) =>
        baseModel.ToDictionary(p => p.Key, p => p.Key.Contains("self_attn", StringComparison.Ordinal) ? Nudge(p.Value, rng, 0.05, 3) : p.Value, StringComparer.Ordinal);

    private static Dictionary<string, Tensor> Checkpoint(Dictionary<string, Tensor> model, XorShift rng) =>
        model.ToDictionary(
            p => p.Key,
            p => p.Value.DType == DType.BF16
                ? Nudge(p.Value, rng, 0.5, 1)
                : Tensor.FromArray<float>(DType.F32, p.Value.GetShape(), p.Value.ToArray<float>().Select(x => x + (float)((rng.NextDouble() - 0.5) * 1e-4)).ToArray()),
            StringComparer.Ordinal);

    private static Tensor Nudge(Tensor tensor, XorShift rng, double fraction, int maxSteps)
    {
        ushort[] bits = tensor.ToArray<ushort>();
        ulong threshold = (ulong)(fraction * ulong.MaxValue);
        for (int i = 0; i < bits.Length; i++)
        {
            ulong r = rng.Next();
            if (r < threshold)
            {
                int step = 1 + (int)(r % (ulong)maxSteps);
                bits[i] = (ushort)(bits[i] + ((r & (1UL << 40)) == 0 ? step : -step));
            }
        }

        return Tensor.FromArray<ushort>(DType.BF16, tensor.GetShape(), bits);
    }

    private static Tensor Bf16(XorShift rng, int rows, int columns, double std)
    {
        var bits = new ushort[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            double rowStd = std * Math.Exp(rng.NextGaussian() * 0.3);
            for (int c = 0; c < columns; c++)
            {
                float value = (float)(rng.NextGaussian() * rowStd);
                uint u = (uint)BitConverter.SingleToInt32Bits(value);
                bits[(r * columns) + c] = (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
            }
        }

        return Tensor.FromArray<ushort>(DType.BF16, [rows, columns], bits);
    }

    private static Tensor Norm(XorShift rng, int n) =>
        Tensor.FromArray<float>(DType.F32, [n], Enumerable.Range(0, n).Select(_ => (float)(1 + (rng.NextGaussian() * 0.05))).ToArray());

    private static double Median(Action action)
    {
        action();
        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalSeconds);
        }

        return MedianOf(times);
    }

    private static T MedianOf<T>(List<T> values) => values.Order().ElementAt(values.Count / 2);

    private static void Row(string name, string value) => Console.WriteLine($"| {name} | {value} |");

    private static string Mb(long bytes) => (bytes / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " MB";

    private static byte[] Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    private sealed class XorShift(ulong seed)
    {
        private ulong _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed;
        private double? _spare;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

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
