using System.Diagnostics;
using System.IO.Compression;
using Z4Ai.Archival;

namespace Z4Ai.Benchmarks.Archival;

/// <summary>
/// The archival tier's ratio and speed table: prose, Python (and C# when the machine has enough of it) and JSON at
/// 10 KB, 100 KB and 1 MB, taken from text installed on this machine, against <c>xz -9e</c>, <c>zstd -19</c> and
/// <c>zstd -19 -D primer</c> (the same primer as a raw dictionary), all in the same run. Run with
/// <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- archive-corpus [--sizes 10K,100K,1M] [--reps N] [--only prose,json]
/// [--model-version 1|2|3]</c> (default: the encoders' default model version).
/// Quick modes: <c>--sizes-only 10K,100K,1M [--model-version 1|2|3] [--only prose]</c> prints Z4Ai's primed sizes alone (and a
/// digest of each archive, to check that a speed change keeps every output byte), and
/// <c>--speed prose [--reps N] [--versions 2,3]</c> times model versions alone (CPU time, alternating; default: the
/// default and the latest version) on 1 MB of one corpus. <c>--primer-file FILE --only prose [--sizes ...]</c>
/// measures a candidate primer text.
/// </summary>
/// <remarks>
/// Corpora are discovered deterministically (sorted paths, concatenated until the largest size) and the runner
/// prints which files it took. Prose: README, NEWS, FAQ, *.txt and *.md files (gzipped or not) of installed
/// packages' documentation. Python: the standard library's top-level modules. C#: *.cs files of installed SDKs
/// and packages. JSON: *.json data files of installed packages. None of these is in a primer. Timings are the
/// best of <c>--reps</c> runs (default 2) of the whole in-memory archive call, priming included (a primed model is
/// cached per process, so repeated calls pay for priming once).
/// </remarks>
public static class ArchiveCorpus
{
    public static int Run(string[] args)
    {
        int[] sizes = [10_000, 100_000, 1_000_000];
        int reps = 2;
        string? only = null;
        string? speed = null;
        string? sizesOnly = null;
        string? primerFile = null;
        byte[] speedVersions = [ContextMixModel.DefaultVersion, ContextMixModel.LatestVersion];
        byte modelVersion = ContextMixModel.DefaultVersion;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--speed")
            {
                speed = args[++i];
            }
            else if (args[i] == "--sizes-only")
            {
                sizesOnly = args[++i];
            }
            else if (args[i] == "--versions")
            {
                speedVersions = args[++i].Split(',').Select(byte.Parse).ToArray();
            }
            else if (args[i] == "--primer-file")
            {
                primerFile = args[++i];
            }
            else if (args[i] == "--model-version")
            {
                modelVersion = byte.Parse(args[++i]);
            }
            else if (args[i] == "--only")
            {
                only = args[++i];
            }
            else if (args[i] == "--sizes")
            {
                sizes = args[++i].Split(',').Select(ParseSize).ToArray();
            }
            else if (args[i] == "--reps")
            {
                reps = Math.Max(1, int.Parse(args[++i]));
            }
        }

        if (speed is not null)
        {
            return Speed(speed, reps, speedVersions);
        }

        if (primerFile is not null)
        {
            return PrimerTrial(primerFile, only ?? "prose", sizes, modelVersion);
        }

        if (sizesOnly is not null)
        {
            return SizesOnly(sizesOnly, modelVersion, only);
        }

        int largest = sizes.Max();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, .NET {Environment.Version}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        Console.WriteLine($"context-mix model version {modelVersion}");
        Console.WriteLine($"tools: {Version("xz", "--version")}; {Version("zstd", "--version")}{(HasTool("zpaq") ? "; zpaq (-method 5)" : string.Empty)}");
        Console.WriteLine();

        var corpora = new List<(string Name, ArchivePreset Preset, byte[] Data)>();
        foreach ((string name, ArchivePreset preset, Func<List<string>> files) in Sources)
        {
            if (only is null || only.Split(',').Contains(name))
            {
                Add(corpora, name, preset, files(), largest);
            }
        }

        Console.WriteLine();

        bool zpaq = HasTool("zpaq");
        Console.WriteLine("| corpus | size | xz -9e | zstd -19 | zstd -19 -D primer |" + (zpaq ? " zpaq -m5 |" : string.Empty)
            + " Z4Ai no primer | Z4Ai primed | vs xz (no primer) | vs xz (primed) | vs zstd -19 -D primer | model enc MB/s | model dec MB/s | archive enc MB/s |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |" + (zpaq ? " ---: |" : string.Empty) + " ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        string temp = Path.Combine(Path.GetTempPath(), "z4ai-archive-corpus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            foreach ((string name, ArchivePreset preset, byte[] all) in corpora)
            {
                Primer primer = Primer.ForPreset(preset)!;
                string primerPath = Path.Combine(temp, primer.FullName + ".txt");
                File.WriteAllBytes(primerPath, primer.Bytes.ToArray());
                foreach (int size in sizes)
                {
                    if (all.Length < size)
                    {
                        continue;
                    }

                    byte[] data = all.AsSpan(0, size).ToArray();
                    string input = Path.Combine(temp, $"{name}-{size}");
                    File.WriteAllBytes(input, data);
                    long xz = External("xz", $"-9e -k -c \"{input}\"");
                    long zstd = External("zstd", $"-19 -q -c \"{input}\"");
                    long zstdDict = External("zstd", $"-19 -q -c -D \"{primerPath}\" \"{input}\"");
                    long zpaqSize = zpaq ? Zpaq(input, temp) : 0;

                    byte[] plain = ArchiveCodec.Compress(data, new ArchiveOptions { Preset = preset, UsePrimer = false, ModelVersion = modelVersion });
                    (byte[] primed, double archiveEncode, _) = Timed(data, new ArchiveOptions { Preset = preset, ModelVersion = modelVersion }, reps);

                    // The model alone: zstd not tried (the archive above also runs zstd -19 on every block).
                    (_, double encode, double decode) = Timed(data, new ArchiveOptions { Preset = preset, ZstdLevel = 0, ModelVersion = modelVersion }, reps);
                    Console.WriteLine(
                        $"| {name} | {Size(size)} | {xz} | {zstd} | {zstdDict} |" + (zpaq ? $" {zpaqSize} |" : string.Empty)
                        + $" {plain.Length} | {primed.Length} | {(double)xz / plain.Length:0.000}x | {(double)xz / primed.Length:0.000}x"
                        + $" | {(double)zstdDict / primed.Length:0.000}x | {size / encode / 1e6:0.00} | {size / decode / 1e6:0.00} | {size / archiveEncode / 1e6:0.00} |");
                }
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine("Sizes are bytes of the whole output (each tool's own container and checksums included). "
            + "MB/s are wall-clock for the primed archive (priming included, cached after the first call), best of the "
            + "repetitions: model = the context-mixing coder alone (ZstdLevel 0), archive = every block also tried with zstd -19.");
        return 0;
    }

    private static readonly (string Name, ArchivePreset Preset, Func<List<string>> Files)[] Sources =
    [
        ("prose", ArchivePreset.Prose, ProseFiles),
        ("python", ArchivePreset.Code, PythonFiles),
        ("csharp", ArchivePreset.Code, CSharpFiles),
        ("json", ArchivePreset.Json, JsonFiles),
    ];

    // The model alone on the first 1 MB of one corpus, no primer, one thread: size and process CPU time each way,
    // the given model versions (default: the default and the latest) alternating in the same run.
    private static int Speed(string name, int reps, byte[] versions)
    {
        (string _, ArchivePreset preset, Func<List<string>> files) = Sources.First(s => s.Name == name);
        var corpora = new List<(string, ArchivePreset, byte[])>();
        Add(corpora, name, preset, files(), 1_000_000);
        byte[] data = corpora[0].Item3.AsSpan(0, Math.Min(1_000_000, corpora[0].Item3.Length)).ToArray();
        for (int r = 0; r < Math.Max(1, reps) * versions.Length; r++)
        {
            byte version = versions[r % versions.Length];
            var options = new ArchiveOptions { Preset = preset, ZstdLevel = 0, UsePrimer = false, MaxDegreeOfParallelism = 1, ModelVersion = version };
            TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            byte[] archive = ArchiveCodec.Compress(data, options);
            double encodeWall = clock.Elapsed.TotalSeconds;
            TimeSpan cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
            clock.Restart();
            byte[] back = ArchiveCodec.Decompress(archive);
            double decodeWall = clock.Elapsed.TotalSeconds;
            TimeSpan cpu2 = Process.GetCurrentProcess().TotalProcessorTime;
            if (!back.AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException("round trip failed");
            }

            // Priming alone (what the first primed block of a process pays before coding, for a 10 KB file).
            Primer? primer = Primer.ForPreset(preset);
            string priming = string.Empty;
            if (primer is not null)
            {
                var settings = ContextMixSettings.ForLength(preset, primer.Bytes.Length + 10_000L);
                TimeSpan p0 = Process.GetCurrentProcess().TotalProcessorTime;
                ISymbolModel model = SymbolModels.Create(SymbolModels.ContextMix(settings, version), primer.Bytes.Length + 10_000);
                model.Learn(primer.Bytes);
                priming = $"; priming on {primer.FullName} ({primer.Bytes.Length} B): {(Process.GetCurrentProcess().TotalProcessorTime - p0).TotalSeconds:0.000} s CPU";
            }

            Console.WriteLine(
                $"{name} model v{version}: {data.Length} B -> {archive.Length} B; encode {encodeWall:0.000} s wall, {(cpu1 - cpu0).TotalSeconds:0.000} s CPU"
                + $" ({data.Length / (cpu1 - cpu0).TotalSeconds / 1e6:0.00} MB/s of CPU); decode {decodeWall:0.000} s wall,"
                + $" {(cpu2 - cpu1).TotalSeconds:0.000} s CPU ({data.Length / (cpu2 - cpu1).TotalSeconds / 1e6:0.00} MB/s of CPU){priming}");
        }

        return 0;
    }

    // A candidate primer read from a file (not a shipped one): the model's payload bytes for each size of one corpus
    // after training on the file, the way an archive would code a single block. For choosing primer text only.
    private static int PrimerTrial(string primerFile, string name, int[] sizes, byte modelVersion)
    {
        byte[] primer = primerFile == "-" ? [] : File.ReadAllBytes(primerFile);
        (string _, ArchivePreset preset, Func<List<string>> files) = Sources.First(s => s.Name == name);
        var corpora = new List<(string, ArchivePreset, byte[])>();
        Add(corpora, name, preset, files(), sizes.Max());
        byte[] all = corpora[0].Item3;
        long total = 0;
        foreach (int size in sizes.Where(s => s <= all.Length))
        {
            var settings = ContextMixSettings.ForLength(preset, primer.Length + (long)size);
            ISymbolModel model = SymbolModels.Create(SymbolModels.ContextMix(settings, modelVersion), primer.Length + size);
            model.Learn(primer);
            ModelCoder.TryEncode(model, all.AsSpan(0, size), int.MaxValue, out _, out int length);
            total += length;
            Console.WriteLine($"{name} {Size(size)} v{modelVersion} primer {primer.Length} B: {length} B payload");
        }

        Console.WriteLine($"total {total} B");
        return 0;
    }

    // Z4Ai's primed size alone for each corpus and size (no other tool), with the encoder's CPU time: a quick check.
    private static int SizesOnly(string sizeList, byte modelVersion, string? only)
    {
        int[] sizes = sizeList.Split(',').Select(ParseSize).ToArray();
        long total = 0;
        foreach ((string name, ArchivePreset preset, Func<List<string>> files) in Sources)
        {
            if (only is not null && !only.Split(',').Contains(name))
            {
                continue;
            }

            var corpora = new List<(string, ArchivePreset, byte[])>();
            Add(corpora, name, preset, files(), sizes.Max());
            if (corpora.Count == 0)
            {
                continue;
            }

            byte[] all = corpora[0].Item3;
            foreach (int size in sizes.Where(s => s <= all.Length))
            {
                byte[] data = all.AsSpan(0, size).ToArray();
                TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                byte[] archive = ArchiveCodec.Compress(data, new ArchiveOptions { Preset = preset, ZstdLevel = 0, MaxDegreeOfParallelism = 1, ModelVersion = modelVersion });
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                if (!ArchiveCodec.Decompress(archive).AsSpan().SequenceEqual(data))
                {
                    throw new InvalidOperationException("round trip failed");
                }

                total += archive.Length;
                Console.WriteLine(
                    $"{name} {Size(size)}: {archive.Length} B primed, encode {cpu.TotalSeconds:0.000} s CPU, archive SHA-256 "
                    + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(archive))[..16]);
            }
        }

        Console.WriteLine($"total {total} B");
        return 0;
    }

    private static (byte[] Archive, double Encode, double Decode) Timed(byte[] data, ArchiveOptions options, int reps)
    {
        byte[] archive = ArchiveCodec.Compress(data, options);
        double encode = double.MaxValue;
        double decode = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            var clock = Stopwatch.StartNew();
            archive = ArchiveCodec.Compress(data, options);
            encode = Math.Min(encode, clock.Elapsed.TotalSeconds);
            clock.Restart();
            byte[] back = ArchiveCodec.Decompress(archive);
            decode = Math.Min(decode, clock.Elapsed.TotalSeconds);
            if (!back.AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException("round trip failed");
            }
        }

        return (archive, encode, decode);
    }

    private static void Add(List<(string, ArchivePreset, byte[])> corpora, string name, ArchivePreset preset, List<string> files, int want)
    {
        var data = new MemoryStream();
        var used = new List<string>();
        foreach (string file in files)
        {
            if (data.Length >= want)
            {
                break;
            }

            byte[]? bytes = ReadText(file);
            if (bytes is null || bytes.Length == 0)
            {
                continue;
            }

            data.Write(bytes);
            used.Add(file);
        }

        if (data.Length < 10_000)
        {
            Console.WriteLine($"{name}: only {data.Length} bytes found in {files.Count} files; skipped");
            return;
        }

        Console.WriteLine($"{name}: {used.Count} files, {data.Length} bytes, first {used[0]}, last {used[^1]}");
        corpora.Add((name, preset, data.ToArray()));
    }

    private static byte[]? ReadText(string file)
    {
        try
        {
            if (file.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var gz = new GZipStream(File.OpenRead(file), CompressionMode.Decompress);
                using var buffer = new MemoryStream();
                gz.CopyTo(buffer);
                return buffer.ToArray();
            }

            return File.ReadAllBytes(file);
        }
        catch (IOException)
        {
            return null;
        }
        catch (InvalidDataException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static List<string> Find(string root, Func<string, bool> predicate, SearchOption option = SearchOption.AllDirectories)
    {
        if (!Directory.Exists(root))
        {
            return [];
        }

        var options = new EnumerationOptions { RecurseSubdirectories = option == SearchOption.AllDirectories, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        return Directory.EnumerateFiles(root, "*", options).Where(predicate).Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> ProseFiles() => Find("/usr/share/doc", path =>
    {
        string name = Path.GetFileName(path);
        string stem = name.EndsWith(".gz", StringComparison.Ordinal) ? name[..^3] : name;
        string upper = stem.ToUpperInvariant();
        return upper.StartsWith("README", StringComparison.Ordinal) || upper.StartsWith("NEWS", StringComparison.Ordinal)
            || upper.StartsWith("FAQ", StringComparison.Ordinal) || stem.EndsWith(".txt", StringComparison.Ordinal) || stem.EndsWith(".md", StringComparison.Ordinal);
    });

    private static List<string> PythonFiles()
    {
        string[] dirs = Directory.Exists("/usr/lib") ? Directory.GetDirectories("/usr/lib", "python3.*") : [];
        foreach (string dir in dirs.Order(StringComparer.Ordinal))
        {
            List<string> files = Find(dir, path => path.EndsWith(".py", StringComparison.Ordinal), SearchOption.TopDirectoryOnly);
            if (files.Count > 0)
            {
                return files;
            }
        }

        return [];
    }

    private static List<string> CSharpFiles()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Find("/usr/share", IsCSharp)
            .Concat(Find("/usr/lib/dotnet", IsCSharp))
            .Concat(Find(Path.Combine(home, ".nuget", "packages"), IsCSharp))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        static bool IsCSharp(string path) => path.EndsWith(".cs", StringComparison.Ordinal)
            && File.ReadAllText(path).Contains("namespace", StringComparison.Ordinal);
    }

    private static List<string> JsonFiles() => Find("/usr/share", path => path.EndsWith(".json", StringComparison.Ordinal));

    private static (bool Ok, string Output) RunTool(string tool, string arguments, string? stdoutFile = null)
    {
        try
        {
            var info = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using Process process = Process.Start(info)!;
            string output;
            if (stdoutFile is null)
            {
                output = process.StandardOutput.ReadToEnd();
            }
            else
            {
                using FileStream file = File.Create(stdoutFile);
                process.StandardOutput.BaseStream.CopyTo(file);
                output = string.Empty;
            }

            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode == 0, output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (false, string.Empty);
        }
    }

    private static bool HasTool(string tool) => RunTool("sh", $"-c \"command -v {tool}\"").Ok;

    private static string Version(string tool, string flag)
    {
        (bool ok, string output) = RunTool(tool, flag);
        return ok ? output.Split('\n')[0].Trim() : tool + " not found (apt-get install -y zstd xz-utils)";
    }

    // The size of a tool's output written to standard output.
    private static long External(string tool, string arguments)
    {
        string output = Path.GetTempFileName();
        try
        {
            (bool ok, _) = RunTool(tool, arguments, output);
            return ok ? new FileInfo(output).Length : -1;
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static long Zpaq(string input, string temp)
    {
        string archive = Path.Combine(temp, "z.zpaq");
        File.Delete(archive);
        (bool ok, _) = RunTool("zpaq", $"a \"{archive}\" \"{input}\" -method 5");
        long size = ok ? new FileInfo(archive).Length : -1;
        File.Delete(archive);
        return size;
    }

    private static int ParseSize(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        int multiplier = t.EndsWith('K') ? 1000 : t.EndsWith('M') ? 1_000_000 : 1;
        return int.Parse(multiplier == 1 ? t : t[..^1]) * multiplier;
    }

    private static string Size(int size) => size >= 1_000_000 ? $"{size / 1_000_000} MB" : size >= 1000 ? $"{size / 1000} KB" : $"{size} B";
}
