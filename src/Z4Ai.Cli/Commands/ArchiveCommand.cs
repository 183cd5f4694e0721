using System.CommandLine;
using System.Diagnostics;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// <c>z4ai archive</c>: compress any file (model card, config, tokenizer, log, code) for cold storage with the
/// context-mixing archival codec; every block competes against zstd and stored.
/// </summary>
internal static class ArchiveCommand
{
    /// <summary>The file name extension of archives.</summary>
    public const string Extension = ".z4ar";

    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "the file to archive; - for standard input" };
        Option<string?> output = CommonOptions.Output($"the archive to write (default: INPUT{Extension}); - for standard output");
        var preset = new Option<string>("--preset", "-p")
        {
            Description = "the model's context set: auto (from the content), prose, code, json (also logs) or binary",
            DefaultValueFactory = _ => "auto",
        }.AcceptOnlyFromAmong("auto", "prose", "code", "json", "binary");
        var noPrimer = new Option<bool>("--no-primer") { Description = "do not train the model on the shipped primer text first" };
        var blockSize = new Option<string>("--block-size")
        {
            Description = "raw bytes per independently coded block, e.g. 16MiB (default; at most 64MiB): memory grows with it",
            DefaultValueFactory = _ => "16MiB",
        };
        var zstdLevel = new Option<int>("--zstd-level") { Description = "the zstd level each block also tries (0 to skip zstd)", DefaultValueFactory = _ => 19 };
        var threads = new Option<int>("--threads", "-j") { Description = "blocks coded at once (memory: one model per block)", DefaultValueFactory = _ => 1 };
        var stats = new Option<bool>("--stats") { Description = "print time, throughput and the process's peak memory" };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("archive", "Compress any file for cold storage with the archival context-mixing codec (restored bit-exact and SHA-256 checked by 'unarchive').\n" + ExitCodes.HelpText)
        {
            input, output, preset, noPrimer, blockSize, zstdLevel, threads, stats, force, quiet,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string inputPath = parse.GetValue(input)!;
            string outputPath = parse.GetValue(output) ?? (inputPath == CommonOptions.StdioName ? CommonOptions.StdioName : inputPath + Extension);
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            var options = new ArchiveOptions
            {
                Preset = Enum.Parse<ArchivePreset>(parse.GetValue(preset)!, ignoreCase: true),
                UsePrimer = !parse.GetValue(noPrimer),
                BlockSize = Units.ParseSize(parse.GetValue(blockSize)!),
                ZstdLevel = parse.GetValue(zstdLevel),
                MaxDegreeOfParallelism = parse.GetValue(threads),
            };

            return Archive(context, inputPath, outputPath, options, parse.GetValue(quiet), parse.GetValue(stats));
        }));
        return command;
    }

    /// <summary>
    /// Archives <paramref name="inputPath"/> into <paramref name="outputPath"/> (either may be <c>-</c>) and prints the
    /// summary; shared by <c>archive</c> and <c>compress --archive</c>. The caller has checked the output may be written.
    /// </summary>
    internal static int Archive(CliContext context, string inputPath, string outputPath, ArchiveOptions options, bool quiet, bool stats)
    {
        if (inputPath != CommonOptions.StdioName && !File.Exists(inputPath))
        {
            throw new FileNotFoundException($"{inputPath}: no such file", inputPath);
        }

        var clock = Stopwatch.StartNew();
        bool toStdout = outputPath == CommonOptions.StdioName;
        long inputLength;
        long outputLength;
        if (inputPath != CommonOptions.StdioName && !toStdout && options.MaxDegreeOfParallelism == 1)
        {
            ArchiveCodec.CompressFile(inputPath, outputPath, options);
            inputLength = new FileInfo(inputPath).Length;
            outputLength = new FileInfo(outputPath).Length;
        }
        else
        {
            // Parallel blocks and standard streams go through memory (bounded by the input).
            byte[] data = ReadAll(context, inputPath);
            byte[] archive = ArchiveCodec.Compress(data, options);
            WriteAll(context, outputPath, archive);
            inputLength = data.Length;
            outputLength = archive.Length;
        }

        TextWriter summary = toStdout ? context.Error : context.Output;
        if (!quiet)
        {
            double ratio = outputLength == 0 ? double.PositiveInfinity : (double)inputLength / outputLength;
            summary.WriteLine($"{inputPath} -> {outputPath}: {Units.Bytes(inputLength)} -> {Units.Bytes(outputLength)} ({Units.Ratio(ratio)})");
        }

        if (stats)
        {
            summary.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(inputLength, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
        }

        return ExitCodes.Ok;
    }

    internal static byte[] ReadAll(CliContext context, string path)
    {
        if (path != CommonOptions.StdioName)
        {
            return File.ReadAllBytes(path);
        }

        using Stream stdin = context.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    internal static void WriteAll(CliContext context, string path, ReadOnlySpan<byte> bytes)
    {
        if (path == CommonOptions.StdioName)
        {
            using Stream stdout = context.OpenStandardOutput();
            stdout.Write(bytes);
            return;
        }

        string temp = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, bytes.ToArray());
        File.Move(temp, path, overwrite: true);
    }
}
