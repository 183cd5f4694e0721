using System.CommandLine;
using System.Diagnostics;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// <c>z4ai compress</c>: a safetensors file into a verified, randomly addressable container, or, with
/// <c>--dtype</c>, any raw buffer of elements into a single-buffer frame (<c>.z4f</c>).
/// </summary>
internal static class CompressCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "the .safetensors file (or a .z4ai to re-pack); - for standard input" };
        Option<string?> output = CommonOptions.Output("the container to write (default: INPUT.z4ai); - for standard output");
        Option<string> effort = CommonOptions.Effort();
        var chunkSize = new Option<string>("--chunk-size") { Description = "raw bytes per chunk, a power of two from 64K to 64M", DefaultValueFactory = _ => "4M" };
        var threads = new Option<int>("--threads", "-t") { Description = "worker threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var stats = new Option<bool>("--stats") { Description = "print time, throughput and the process's peak memory" };
        var dtype = new Option<string?>("--dtype") { Description = "raw buffer mode: the input is bare little-endian elements of this dtype (bf16, f16, f32, u8, ...), written as a .z4f frame" };
        var shape = new Option<string?>("--shape") { Description = "raw buffer mode: the dimensions, comma-separated (e.g. 4096,4096); recorded in the frame, the last one is the row length" };
        var archive = new Option<bool>("--archive") { Description = $"archival tier: any file into a {ArchiveCommand.Extension} archive (context-mixing model, zstd or stored per block, smallest wins; SHA-256 checked on decompress)" };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("compress", "Compress a .safetensors file into a .z4ai container (every tensor compressed on its own, SHA-256 verified on read), with --dtype a raw buffer into a .z4f frame, or with --archive any file into a .z4ar archive.\n" + ExitCodes.HelpText)
        {
            input, output, effort, chunkSize, threads, stats, dtype, shape, archive, force, quiet,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string inputPath = parse.GetValue(input)!;
            if (parse.GetValue(archive))
            {
                if (parse.GetValue(dtype) is not null || parse.GetValue(shape) is not null)
                {
                    throw new CliUsageException("--archive takes any file as it is: drop --dtype and --shape");
                }

                string archivePath = parse.GetValue(output) ?? (inputPath == CommonOptions.StdioName ? CommonOptions.StdioName : inputPath + ArchiveCommand.Extension);
                CommonOptions.EnsureCanWrite(archivePath, parse.GetValue(force));
                return ArchiveCommand.Archive(context, inputPath, archivePath, ArchiveOptions.Default, parse.GetValue(quiet), parse.GetValue(stats));
            }

            if (parse.GetValue(dtype) is string dtypeName)
            {
                return CompressBuffer(context, inputPath, parse.GetValue(output), dtypeName, parse.GetValue(shape), new RawSettings(
                    CommonOptions.ParseEffort(parse.GetValue(effort)!),
                    Units.ParseSize(parse.GetValue(chunkSize)!),
                    Math.Max(1, parse.GetValue(threads)),
                    parse.GetValue(force),
                    parse.GetValue(quiet),
                    parse.GetValue(stats)));
            }

            if (parse.GetValue(shape) is not null)
            {
                throw new CliUsageException("--shape needs --dtype (raw buffer mode)");
            }

            string outputPath = parse.GetValue(output) ?? (inputPath == CommonOptions.StdioName ? CommonOptions.StdioName : inputPath + Z4AiContainer.FileExtension);
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            var options = new SaveOptions
            {
                Effort = CommonOptions.ParseEffort(parse.GetValue(effort)!),
                ChunkSize = Units.ParseSize(parse.GetValue(chunkSize)!),
                MaxDegreeOfParallelism = Math.Max(1, parse.GetValue(threads)),
            };
            bool toStdout = outputPath == CommonOptions.StdioName;
            bool silent = parse.GetValue(quiet) || toStdout;
            var progress = new ThrottledProgress(context.Error, silent);

            using SpooledInput source = CommonOptions.OpenInput(context, inputPath);
            CompressionReport report;
            if (toStdout)
            {
                using FileStream inputStream = File.OpenRead(source.Path);
                using Stream stdout = context.OpenStandardOutput();
                report = Z4AiContainer.Compress(inputStream, stdout, options, progress);
            }
            else
            {
                report = Z4AiContainer.Compress(source.Path, outputPath, options, progress);
            }

            TextWriter summary = toStdout ? context.Error : context.Output;
            if (!parse.GetValue(quiet))
            {
                var byCodec = report.Tensors.GroupBy(t => t.DuplicateOf is null ? t.Codec : "dedup")
                    .Select(g => $"{g.Key} x{g.Count()}");
                summary.WriteLine($"{inputPath} -> {outputPath}: {report.Tensors.Count} tensors, {Units.Bytes(report.InputBytes)} -> {Units.Bytes(report.OutputBytes)} ({Units.Ratio(report.Ratio)})");
                summary.WriteLine($"codecs: {string.Join(", ", byCodec)}");
            }

            if (parse.GetValue(stats))
            {
                summary.WriteLine($"time: {report.Elapsed.TotalSeconds:0.000} s, {Units.Rate(report.InputBytes, report.Elapsed)}, peak memory: {Units.Bytes(PeakMemory())}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private readonly record struct RawSettings(CompressionEffort Effort, int ChunkSize, int Threads, bool Force, bool Quiet, bool Stats);

    // Raw buffer mode: the whole input file is one buffer of elements; the frame goes to a temporary file that is
    // renamed into place only when complete.
    private static int CompressBuffer(CliContext context, string inputPath, string? outputPath, string dtypeName, string? shapeText, RawSettings settings)
    {
        if (!DTypeInfo.TryParseLoose(dtypeName, out DType? parsed))
        {
            throw new CliUsageException($"'{dtypeName}' is not a dtype (examples: bf16, f16, f32, u8, i64)");
        }

        DType dtype = parsed.Value;
        long[]? dims = shapeText is null ? null : ParseShape(shapeText);
        outputPath ??= inputPath == CommonOptions.StdioName ? CommonOptions.StdioName : inputPath + Z4AiCodec.FileExtension;
        CommonOptions.EnsureCanWrite(outputPath, settings.Force);
        var options = new CodecOptions
        {
            Effort = settings.Effort,
            ChunkSize = settings.ChunkSize,
            MaxDegreeOfParallelism = settings.Threads,
            Shape = dims,
        };

        var clock = Stopwatch.StartNew();
        using SpooledInput source = CommonOptions.OpenInput(context, inputPath);
        long length = new FileInfo(source.Path).Length;
        long written;
        using (FileStream inputStream = File.OpenRead(source.Path))
        {
            if (outputPath == CommonOptions.StdioName)
            {
                using Stream stdout = context.OpenStandardOutput();
                using var counting = new MemoryStream();
                Z4AiCodec.Compress(inputStream, length, counting, dtype, options);
                written = counting.Length;
                counting.Position = 0;
                counting.CopyTo(stdout);
            }
            else
            {
                string temp = outputPath + ".tmp-" + Guid.NewGuid().ToString("N");
                try
                {
                    using (var outputStream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    {
                        Z4AiCodec.Compress(inputStream, length, outputStream, dtype, options);
                        outputStream.Flush(flushToDisk: true);
                        written = outputStream.Length;
                    }

                    File.Move(temp, outputPath, overwrite: true);
                }
                finally
                {
                    File.Delete(temp);
                }
            }
        }

        TextWriter summary = outputPath == CommonOptions.StdioName ? context.Error : context.Output;
        if (!settings.Quiet)
        {
            double ratio = written == 0 ? 0 : (double)length / written;
            summary.WriteLine($"{inputPath} -> {outputPath}: {dtype.GetName()} buffer{(dims is null ? string.Empty : " [" + string.Join(",", dims) + "]")}, {Units.Bytes(length)} -> {Units.Bytes(written)} ({Units.Ratio(ratio)}), effort {settings.Effort.ToString().ToLowerInvariant()}");
        }

        if (settings.Stats)
        {
            summary.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(length, clock.Elapsed)}, peak memory: {Units.Bytes(PeakMemory())}");
        }

        return ExitCodes.Ok;
    }

    /// <summary>Parses <c>4096,4096</c> (or <c>[4096, 4096]</c>) into dimensions.</summary>
    internal static long[] ParseShape(string text)
    {
        string[] parts = text.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var dims = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out dims[i]))
            {
                throw new CliUsageException($"'{text}' is not a shape (example: 4096,4096)");
            }
        }

        return dims;
    }

    /// <summary>The process's peak resident set, from the OS.</summary>
    internal static long PeakMemory()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
