using System.CommandLine;
using System.Diagnostics;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai decompress</c>: restore the original .safetensors file byte for byte, or the raw bytes of a .z4f buffer frame.</summary>
internal static class DecompressCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "the .z4ai container; - for standard input" };
        Option<string?> output = CommonOptions.Output("the .safetensors file to write (default: INPUT without .z4ai); - for standard output");
        var stats = new Option<bool>("--stats") { Description = "print time, throughput and the process's peak memory" };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("decompress", "Restore the original .safetensors file, byte for byte, or the raw bytes of a .z4f buffer frame; everything is verified and nothing is kept if a check fails.\n" + ExitCodes.HelpText)
        {
            input, output, stats, force, quiet,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string inputPath = parse.GetValue(input)!;
            string? outputPath = parse.GetValue(output);
            if (inputPath != CommonOptions.StdioName && UnarchiveCommand.IsArchiveFile(inputPath))
            {
                return UnarchiveCommand.Restore(context, inputPath, outputPath, parse.GetValue(force), parse.GetValue(quiet), parse.GetValue(stats));
            }

            if (inputPath != CommonOptions.StdioName && IsBufferFrame(inputPath))
            {
                return DecompressBuffer(context, inputPath, outputPath, parse.GetValue(force), parse.GetValue(quiet), parse.GetValue(stats));
            }

            if (outputPath is null)
            {
                if (inputPath == CommonOptions.StdioName)
                {
                    outputPath = CommonOptions.StdioName;
                }
                else if (inputPath.EndsWith(Z4AiContainer.FileExtension, StringComparison.OrdinalIgnoreCase))
                {
                    outputPath = inputPath[..^Z4AiContainer.FileExtension.Length];
                    if (!outputPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                    {
                        outputPath += ".safetensors";
                    }
                }
                else
                {
                    throw new CliUsageException("cannot derive the output name: pass -o OUTPUT");
                }
            }

            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            bool toStdout = outputPath == CommonOptions.StdioName;
            var progress = new ThrottledProgress(context.Error, parse.GetValue(quiet) || toStdout);
            var clock = Stopwatch.StartNew();
            using SpooledInput source = CommonOptions.OpenInput(context, inputPath);
            if (toStdout)
            {
                using FileStream inputStream = File.OpenRead(source.Path);
                using Stream stdout = context.OpenStandardOutput();
                Z4AiContainer.Decompress(inputStream, stdout, progress);
            }
            else
            {
                Z4AiContainer.Decompress(source.Path, outputPath, progress);
            }

            TextWriter summary = toStdout ? context.Error : context.Output;
            long restored = toStdout ? 0 : new FileInfo(outputPath).Length;
            if (!parse.GetValue(quiet))
            {
                summary.WriteLine($"{inputPath} -> {outputPath}: restored{(toStdout ? string.Empty : " " + Units.Bytes(restored))}, every tensor verified");
            }

            if (parse.GetValue(stats))
            {
                summary.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(restored, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static bool IsBufferFrame(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        Span<byte> start = stackalloc byte[4];
        using FileStream stream = File.OpenRead(path);
        return stream.ReadAtLeast(start, 4, throwOnEndOfStream: false) == 4 && Z4AiCodec.IsFrame(start);
    }

    // Writes to a temporary file that replaces the output only after the SHA-256 matched.
    private static int DecompressBuffer(CliContext context, string inputPath, string? outputPath, bool force, bool quiet, bool stats)
    {
        if (outputPath is null)
        {
            outputPath = inputPath.EndsWith(Z4AiCodec.FileExtension, StringComparison.OrdinalIgnoreCase)
                ? inputPath[..^Z4AiCodec.FileExtension.Length]
                : throw new CliUsageException("cannot derive the output name: pass -o OUTPUT");
        }

        CommonOptions.EnsureCanWrite(outputPath, force);
        var clock = Stopwatch.StartNew();
        CodecFrameInfo info;
        using (FileStream source = File.OpenRead(inputPath))
        {
            if (outputPath == CommonOptions.StdioName)
            {
                using Stream stdout = context.OpenStandardOutput();
                info = Z4AiCodec.Decompress(source, stdout);
            }
            else
            {
                string temp = outputPath + ".tmp-" + Guid.NewGuid().ToString("N");
                try
                {
                    using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    {
                        info = Z4AiCodec.Decompress(source, target);
                        target.Flush(flushToDisk: true);
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
        if (!quiet)
        {
            summary.WriteLine($"{inputPath} -> {outputPath}: {info.DType.GetName()} buffer, restored {Units.Bytes(info.RawLength)}, SHA-256 verified");
        }

        if (stats)
        {
            summary.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(info.RawLength, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
        }

        return ExitCodes.Ok;
    }
}
