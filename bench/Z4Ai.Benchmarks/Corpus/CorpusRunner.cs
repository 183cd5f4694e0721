using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>
/// The corpus benchmark of issue 3: the documented scenario suite plus every real weight file in the shared sample
/// directory, each through the Z4Ai container and through <c>zstd -3</c>, <c>zstd -19</c> and <c>xz -9</c> in the same
/// run, with the order-0 entropy bounds and the published floors. Run as
/// <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- corpus [options]</c>, or through
/// <c>bench/run-corpus.sh</c>, which installs the compressors and writes <c>docs/benchmarks.md</c>.
/// </summary>
/// <remarks>
/// Options: <c>--mib N</c> (MiB per synthetic case, default 32), <c>--only A,B</c> (cases whose name contains one of
/// the words), <c>--runs N</c> (timed runs, best kept; default 3), <c>--effort Fast|Default|Max</c> (default
/// Default), <c>--seed N</c>, <c>--data DIR</c> (default: the first <c>shared/data</c> found beside the repository or
/// one of its parents), <c>--no-real</c>, <c>--no-external</c>, <c>--streams</c> (log every case's leaf streams, raw
/// and coded bytes), <c>--out FILE.md</c> (also writes <c>FILE-ratio.svg</c>; the hand-written sections from
/// <c>## Model registry</c> on are kept). Without <c>--out</c> the report is printed.
/// </remarks>
public static class CorpusRunner
{
    /// <summary>The best published ratio for each sample file (the "best" column of numbers-to-beat.md).</summary>
    private static readonly Dictionary<string, double> RealFloors = new(StringComparer.Ordinal)
    {
        ["faceapi_face_expression_model"] = 1.207,
        ["faceapi_face_expression_model_dequant"] = 4.234,
        ["faceapi_face_landmark_68_model"] = 1.255,
        ["faceapi_face_landmark_68_model_dequant"] = 4.370,
        ["faceapi_ssd_mobilenetv1_model_dequant"] = 6.509,
        ["human_faceres-deep"] = 1.194,
        ["human_faceres"] = 1.195,
        ["silero_vad_v5"] = 1.260,
        ["silero_vad_v6"] = 1.259,
        ["use_lite"] = 1.202,
        ["use_lite_bf16"] = 1.507,
    };

    /// <summary>Runs the benchmark; returns the process exit code.</summary>
    public static int Run(string[] args)
    {
        CorpusOptions options;
        try
        {
            options = CorpusOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"corpus: {ex.Message}");
            return 2;
        }

        CorpusSelfCheck.Run();
        string work = Path.Combine(Path.GetTempPath(), "z4ai-corpus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            return RunCore(options, work);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static int RunCore(CorpusOptions options, string work)
    {
        ExternalCompressor?[] externals = options.External
            ? [ExternalCompressor.TryCreate("zstd", "-3"), ExternalCompressor.TryCreate("zstd", "-19"), ExternalCompressor.TryCreate("xz", "-9")]
            : [null, null, null];
        foreach (string tool in new[] { "zstd", "zstd", "xz" }.Where((_, i) => externals[i] is null && options.External).Distinct())
        {
            Console.WriteLine($"corpus: {tool} is not installed; its columns stay empty (bench/run-corpus.sh installs it)");
        }

        double? loadAtStart = CorpusReport.LoadAverage();
        Warmup(options.Effort);
        var results = new List<CaseResult>();
        var efforts = new List<(CompressionEffort Effort, Z4AiResult Result, long FileBytes)>();
        foreach (Scenario scenario in CorpusScenarios.All.Where(s => options.Selects(s.Name)))
        {
            Log($"{scenario.Name}: generating {options.Mib} MiB");
            long bytes = (long)options.Mib << 20;
            ulong seed = ScenarioRandom.SeedFor(scenario.Name, options.Seed);
            Dictionary<string, Tensor> tensors = scenario.Build(bytes, new ScenarioRandom(seed));
            byte[] plain = SafeTensorsCompat.Save(tensors, options: new SaveOptions { Format = StorageFormat.SafeTensors });
            string path = Path.Combine(work, scenario.Name + ".safetensors");
            File.WriteAllBytes(path, plain);
            CaseResult result = Measure(scenario.Name, real: false, scenario.Description, scenario.Floor, plain, path, options, externals, work);
            if (scenario.Quantised is Quantisation quantisation)
            {
                // The same seed draws the same weights, so these are the very codes the tensor was made from.
                QuantisedCodes codes = CorpusScenarios.Codes(quantisation, bytes, new ScenarioRandom(seed));
                CodeBound bound = CodeBound.Of(codes, quantisation.DType, tensors.Values.Single().Data.Span);
                result = result with { Codes = bound };
                Log($"  code bound {bound.Ratio(result.FileBytes, result.HeaderBytes):0.000}x: {bound.BitsPerCode:0.0000} bits per code over the tensor "
                    + $"({bound.RowCodeBits / bound.Codes:0.0000} per row), {bound.ScaleBits / 8} bytes of scales; Z4Ai at "
                    + $"{100 * result.Z4AiRatio / bound.Ratio(result.FileBytes, result.HeaderBytes):0.00}% of it");
            }

            results.Add(result);
            if (scenario.Name == "dense-bf16")
            {
                foreach (CompressionEffort effort in Enum.GetValues<CompressionEffort>())
                {
                    Z4AiResult z = effort == options.Effort ? result.Z4Ai : MeasureZ4Ai(plain, effort, options.Runs);
                    efforts.Add((effort, z, plain.Length));
                }
            }

            File.Delete(path);
        }

        string? dataDirectory = options.Real ? options.DataDirectory ?? FindDataDirectory() : null;
        string dataNote;
        if (!options.Real)
        {
            dataNote = "real sample files skipped (--no-real)";
        }
        else if (dataDirectory is null || !Directory.Exists(dataDirectory))
        {
            dataNote = "real sample files skipped: no shared/data directory was found beside the repository (pass --data DIR)";
            Console.WriteLine($"corpus: {dataNote}");
        }
        else
        {
            dataNote = $"real sample files from `{Path.GetRelativePath(Directory.GetCurrentDirectory(), dataDirectory)}`";
            foreach (string path in Directory.EnumerateFiles(dataDirectory, "*.safetensors").Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileNameWithoutExtension(path);
                if (!options.Selects(name))
                {
                    continue;
                }

                Log($"{name}: {new FileInfo(path).Length / 1e6:0.0} MB");
                byte[] plain = File.ReadAllBytes(path);
                double? floor = RealFloors.TryGetValue(name, out double f) ? f : null;
                results.Add(Measure(name, real: true, "sample weights (" + DescribeDTypes(plain) + ")", floor, plain, path, options, externals, work));
            }
        }

        var report = new CorpusReport(options, externals, results, efforts, dataNote, loadAtStart);
        if (options.OutputPath is null)
        {
            Console.WriteLine();
            Console.WriteLine(report.ToMarkdown(chartFileName: null));
        }
        else
        {
            string svgPath = Path.ChangeExtension(options.OutputPath, null) + "-ratio.svg";
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.OutputPath))!);
            File.WriteAllText(svgPath, report.ToSvg());
            string? existing = File.Exists(options.OutputPath) ? File.ReadAllText(options.OutputPath) : null;
            File.WriteAllText(options.OutputPath, CorpusReport.KeepHandWritten(report.ToMarkdown(Path.GetFileName(svgPath)), existing));
            Console.WriteLine();
            Console.WriteLine(report.ToMarkdown(Path.GetFileName(svgPath)));
            Log($"wrote {options.OutputPath} and {svgPath}");
        }

        return 0;
    }

    private static CaseResult Measure(
        string name, bool real, string description, double? floor, byte[] plain, string path, CorpusOptions options, ExternalCompressor?[] externals, string work)
    {
        var bounds = new OrderZeroBounds();
        using (SafeTensorsReader reader = SafeTensorsCompat.Open(new MemoryStream(plain, writable: false)))
        {
            foreach (TensorInfo info in reader.Tensors)
            {
                ReadOnlySpan<byte> data = reader.GetTensor(info.Name).Data.Span;
                bounds.Add(info.DType, data);
                int rowLength = info.Shape.Count >= 2 && info.Shape[^1] is > 0 and <= int.MaxValue ? (int)info.Shape[^1] : 0;
                bounds.AddCoded(info.DType, data, rowLength, options.Effort);
            }
        }

        if (options.Streams)
        {
            foreach ((string key, (long raw, long encoded, int leaves)) in bounds.Streams)
            {
                Log($"  stream {key}: {raw} -> {encoded} bytes in {leaves} leaves ({(raw == 0 ? 0 : 8.0 * encoded / raw):0.0000} bits per raw byte)");
            }
        }

        Z4AiResult z4ai = MeasureZ4Ai(plain, options.Effort, options.Runs);
        Log($"  z4ai {(double)plain.Length / z4ai.StoredBytes:0.000}x, {Rate(plain.Length, z4ai.CompressSeconds)} / {Rate(plain.Length, z4ai.DecompressSeconds)} MB/s, {z4ai.Codecs}");
        byte[] sha = SHA256.HashData(plain);
        var external = new ExternalResult?[externals.Length];
        for (int i = 0; i < externals.Length; i++)
        {
            if (externals[i] is ExternalCompressor tool)
            {
                // The slow levels get one timed compression: their run-to-run spread is far below a best-of-3 gain.
                int compressRuns = tool.Level == "-3" ? options.Runs : 1;
                external[i] = tool.Measure(path, sha, work, compressRuns, options.Runs);
                Log($"  {tool.Label} {(double)plain.Length / external[i]!.CompressedBytes:0.000}x, {Rate(plain.Length, external[i]!.CompressSeconds)} / {Rate(plain.Length, external[i]!.DecompressSeconds)} MB/s");
            }
        }

        return new CaseResult(name, real, description, plain.Length, floor, z4ai, external, bounds, plain.Length - bounds.TensorBytes);
    }

    /// <summary>
    /// Compresses the plain file bytes into a container in memory and restores them, each the best of
    /// <paramref name="runs"/>; the restore checks every tensor's SHA-256, and the first one is compared byte for byte.
    /// </summary>
    internal static Z4AiResult MeasureZ4Ai(byte[] plain, CompressionEffort effort, int runs)
    {
        var save = new SaveOptions { Effort = effort };
        using var packed = new MemoryStream(plain.Length + (1 << 20));
        CompressionReport? report = null;
        double compress = Best(runs, () =>
        {
            packed.SetLength(0);
            report = Z4AiContainer.Compress(new MemoryStream(plain, writable: false), packed, save);
        });
        byte[] container = packed.ToArray();
        using (var restored = new MemoryStream(plain.Length))
        {
            Z4AiContainer.Decompress(new MemoryStream(container, writable: false), restored);
            if (!restored.GetBuffer().AsSpan(0, (int)restored.Length).SequenceEqual(plain))
            {
                throw new InvalidOperationException("the container did not restore the original file byte for byte");
            }
        }

        double decompress = Best(runs, () => Z4AiContainer.Decompress(new MemoryStream(container, writable: false), Stream.Null));
        return new Z4AiResult(container.Length, compress, decompress, DescribeCodecs(report!));
    }

    private static string DescribeCodecs(CompressionReport report)
    {
        var stored = report.Tensors.Where(t => t.DuplicateOf is null).ToList();
        long total = Math.Max(1, stored.Sum(t => t.RawBytes));
        var parts = stored
            .GroupBy(t => t.Codec, StringComparer.Ordinal)
            .Select(g => (Codec: g.Key, Bytes: g.Sum(t => t.RawBytes)))
            .OrderByDescending(p => p.Bytes)
            .ThenBy(p => p.Codec, StringComparer.Ordinal)
            .Select(p => stored.Count == 1 || p.Bytes == total ? p.Codec : $"{p.Codec} {100.0 * p.Bytes / total:0}%")
            .ToList();
        int duplicates = report.Tensors.Count - stored.Count;
        if (duplicates > 0)
        {
            parts.Add($"{duplicates} of {report.Tensors.Count} tensors deduplicated");
        }

        return string.Join(", ", parts);
    }

    private static string DescribeDTypes(byte[] plain)
    {
        using SafeTensorsReader reader = SafeTensorsCompat.Open(new MemoryStream(plain, writable: false));
        return string.Join("/", reader.Tensors.GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.ByteLength)).Select(g => g.Key.GetName()));
    }

    // Runs every effort once on a small model so JIT tiers and pools settle before anything is timed.
    private static void Warmup(CompressionEffort effort)
    {
        var rng = new ScenarioRandom(1);
        byte[] plain = SafeTensorsCompat.Save(
            CorpusScenarios.All[0].Build(4 << 20, rng), options: new SaveOptions { Format = StorageFormat.SafeTensors });
        foreach (CompressionEffort e in Enum.GetValues<CompressionEffort>().Append(effort))
        {
            MeasureZ4Ai(plain, e, runs: 2);
        }
    }

    private static double Best(int runs, Action action)
    {
        double best = double.MaxValue;
        for (int i = 0; i < Math.Max(runs, 1); i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return best;
    }

    /// <summary>
    /// The sample weights live in <c>shared/data</c> beside the repository; a worktree may sit deeper, so every
    /// parent of the working directory is tried.
    /// </summary>
    private static string? FindDataDirectory()
    {
        for (DirectoryInfo? dir = new(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    // One decimal below 10 MB/s, so the slow levels (zstd -19, xz -9, effort Max) do not print as 0.
    internal static string Rate(long bytes, double seconds)
    {
        double rate = bytes / seconds / 1e6;
        return rate.ToString(rate < 10 ? "0.0" : "0", CultureInfo.InvariantCulture);
    }

    private static void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");
}
