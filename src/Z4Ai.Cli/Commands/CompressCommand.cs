using System.CommandLine;
using System.Diagnostics;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai compress</c>: a safetensors file into a verified, randomly addressable container.</summary>
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
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("compress", "Compress a .safetensors file into a .z4ai container (every tensor compressed on its own, SHA-256 verified on read).\n" + ExitCodes.HelpText)
        {
            input, output, effort, chunkSize, threads, stats, force, quiet,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string inputPath = parse.GetValue(input)!;
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

    /// <summary>The process's peak resident set, from the OS.</summary>
    internal static long PeakMemory()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
