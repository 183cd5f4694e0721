using System.CommandLine;
using System.Diagnostics;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai unarchive</c>: restore a file from an archive, after checking its SHA-256.</summary>
internal static class UnarchiveCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = $"the archive ({ArchiveCommand.Extension}); - for standard input" };
        Option<string?> output = CommonOptions.Output($"the file to write (default: INPUT without {ArchiveCommand.Extension}); - for standard output");
        var info = new Option<bool>("--info") { Description = "print what the archive declares (model, primer, blocks, length, SHA-256) and decode nothing" };
        var stats = new Option<bool>("--stats") { Description = "print time, throughput and the process's peak memory" };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("unarchive", "Restore a file from an archive made by 'archive'; nothing is written unless its SHA-256 matches.\n" + ExitCodes.HelpText)
        {
            input, output, info, stats, force, quiet,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string inputPath = parse.GetValue(input)!;
            if (inputPath != CommonOptions.StdioName && !File.Exists(inputPath))
            {
                throw new FileNotFoundException($"{inputPath}: no such file", inputPath);
            }

            if (parse.GetValue(info))
            {
                return Describe(context, inputPath);
            }

            return Restore(context, inputPath, parse.GetValue(output), parse.GetValue(force), parse.GetValue(quiet), parse.GetValue(stats));
        }));
        return command;
    }

    /// <summary>Prints what the archive declares, decoding nothing; shared by <c>unarchive --info</c> and <c>info</c>.</summary>
    internal static int Describe(CliContext context, string inputPath)
    {
        ArchiveInfo described = ArchiveCodec.Inspect(ArchiveCommand.ReadAll(context, inputPath));
        context.Output.WriteLine($"length: {described.Length} bytes");
        context.Output.WriteLine($"sha256: {described.Sha256}");
        context.Output.WriteLine($"archive: {described.ArchiveLength} bytes in {described.Blocks} block(s) of up to {described.BlockSize} bytes");
        context.Output.WriteLine($"blocks: {described.ModelBlocks} model, {described.ZstdBlocks} zstd, {described.StoredBlocks} stored");
        context.Output.WriteLine($"model: {described.Model ?? "none"}");
        context.Output.WriteLine($"primer: {described.Primer ?? "none"}");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Restores the file an archive holds (after its SHA-256 matched) and prints the summary; shared by
    /// <c>unarchive</c> and <c>decompress</c>.
    /// </summary>
    internal static int Restore(CliContext context, string inputPath, string? outputPath, bool force, bool quiet, bool stats)
    {
        if (outputPath is null)
        {
            if (inputPath == CommonOptions.StdioName)
            {
                outputPath = CommonOptions.StdioName;
            }
            else if (inputPath.EndsWith(ArchiveCommand.Extension, StringComparison.OrdinalIgnoreCase))
            {
                outputPath = inputPath[..^ArchiveCommand.Extension.Length];
            }
            else
            {
                throw new CliUsageException("cannot derive the output name: pass -o OUTPUT");
            }
        }

        CommonOptions.EnsureCanWrite(outputPath, force);
        bool toStdout = outputPath == CommonOptions.StdioName;
        var clock = Stopwatch.StartNew();
        long restored;
        if (inputPath != CommonOptions.StdioName && !toStdout)
        {
            ArchiveCodec.DecompressFile(inputPath, outputPath);
            restored = new FileInfo(outputPath).Length;
        }
        else
        {
            // Verified in memory before a single byte reaches the output.
            byte[] data = ArchiveCodec.Decompress(ArchiveCommand.ReadAll(context, inputPath));
            ArchiveCommand.WriteAll(context, outputPath, data);
            restored = data.Length;
        }

        TextWriter summary = toStdout ? context.Error : context.Output;
        if (!quiet)
        {
            summary.WriteLine($"{inputPath} -> {outputPath}: restored {Units.Bytes(restored)}, SHA-256 verified");
        }

        if (stats)
        {
            summary.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(restored, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
        }

        return ExitCodes.Ok;
    }

    /// <summary>Whether the file at <paramref name="path"/> starts like an archive.</summary>
    internal static bool IsArchiveFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        Span<byte> start = stackalloc byte[8];
        using FileStream stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        return ArchiveCodec.IsArchive(start[..read]);
    }
}
