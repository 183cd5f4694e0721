using System.CommandLine;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai delta</c>: store a checkpoint as a verified, lossless delta against the model it came from.</summary>
internal static class DeltaCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("target") { Description = "the newer model: a .safetensors file or a .z4ai container" };
        var @base = new Option<string>("--base", "-b") { Description = "the model to store it against (.safetensors or .z4ai)", Required = true };
        Option<string?> output = CommonOptions.Output($"the delta to write (default: TARGET{DeltaCodec.FileExtension})");
        Option<string> effort = CommonOptions.Effort();
        var chunkSize = new Option<string>("--chunk-size") { Description = "bytes per delta chunk, each choosing its own transform: a multiple of 8 from 64 to 256M", DefaultValueFactory = _ => "1M" };
        var stats = new Option<bool>("--stats") { Description = "print time, throughput and the process's peak memory" };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var lossy = new LossyDeltaCli.Options();
        var command = new Command(
            "delta",
            "Store TARGET as a lossless delta against --base: tensors are paired by name and shape (then by position, for renamed or re-ordered ones); "
            + "identical tensors cost nothing, changed ones only what changed, new ones are compressed on their own. "
            + "`z4ai undelta` rebuilds TARGET byte for byte from the delta and the same base. "
            + $"With --tier, store a lossy {LossyDelta.FileExtension} delta instead, certified with --certify or --eval-command (its certificate is written next to it, the .z4al replaced by .cert.json); "
            + "it is refused, and nothing is written, when the certificate does not pass, unless --force.\n" + ExitCodes.HelpText)
        {
            target, @base, output, effort, chunkSize, stats, force, quiet,
        };
        lossy.AddTo(command);
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string targetPath = parse.GetValue(target)!;
            string basePath = parse.GetValue(@base)!;
            string outputPath = parse.GetValue(output)
                ?? (targetPath == CommonOptions.StdioName ? CommonOptions.StdioName : targetPath + DeltaCodec.FileExtension);
            if (lossy.CertificationWithoutTier(parse))
            {
                throw new CliUsageException("--certify and --eval-command certify a lossy delta: add --tier int8|int4|sparse|1bit");
            }

            if (parse.GetValue(lossy.Tier) is not null)
            {
                if (targetPath == CommonOptions.StdioName || basePath == CommonOptions.StdioName || outputPath == CommonOptions.StdioName)
                {
                    throw new CliUsageException("a lossy delta is written next to its certificate and evaluated on files: pass files, not -");
                }

                RequireFile(targetPath);
                RequireFile(basePath);
                return LossyDeltaCli.RunDelta(
                    context, parse, lossy, targetPath, basePath, parse.GetValue(output), CommonOptions.ParseEffort(parse.GetValue(effort)!),
                    parse.GetValue(force), parse.GetValue(quiet), parse.GetValue(stats));
            }

            RequireOneStdin(targetPath, basePath);
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            int chunk = Units.ParseSize(parse.GetValue(chunkSize)!);
            if (chunk is < DeltaOptions.MinChunkSize or > DeltaOptions.MaxChunkSize || chunk % 8 != 0)
            {
                throw new CliUsageException($"--chunk-size {parse.GetValue(chunkSize)} must be a multiple of 8 from 64 to 256M");
            }

            var options = new DeltaOptions { Effort = CommonOptions.ParseEffort(parse.GetValue(effort)!), ChunkSize = chunk };
            bool toStdout = outputPath == CommonOptions.StdioName;
            var progress = new ThrottledProgress(context.Error, parse.GetValue(quiet));

            // Both models are read at random offsets (tensors are paired by name before any is read), so a model on
            // standard input is first copied to a temporary file; the delta is written to a temporary file and only
            // copied to standard output once it is complete, so a failure writes nothing.
            using SpooledInput targetFile = CommonOptions.OpenInput(context, targetPath);
            using SpooledInput baseFile = CommonOptions.OpenInput(context, basePath);
            ModelDeltaReport report;
            using (var written = new StdoutStaging(context, outputPath))
            {
                report = DeltaCodec.CompressFile(targetFile.Path, baseFile.Path, written.Path, options, progress);
                written.Commit();
            }

            TextWriter summary = toStdout ? context.Error : context.Output;
            if (!parse.GetValue(quiet))
            {
                summary.WriteLine(
                    $"{targetPath} against {basePath} -> {outputPath}: {report.Tensors.Count} tensors ({DeltaInfoView.Modes(report.Tensors)}), "
                    + $"{Units.Bytes(report.TargetBytes)} -> {Units.Bytes(report.OutputBytes)} ({Units.Ratio(report.Ratio)})");
                summary.WriteLine($"base model: {report.BaseModelSha256}");
            }

            if (parse.GetValue(stats))
            {
                summary.WriteLine($"time: {report.Elapsed.TotalSeconds:0.000} s, {Units.Rate(report.TargetBytes, report.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Standard input can be read once: at most one of the inputs may be <c>-</c>.</summary>
    internal static void RequireOneStdin(params IEnumerable<string> inputs)
    {
        if (inputs.Count(path => path == CommonOptions.StdioName) > 1)
        {
            throw new CliUsageException("only one input can come from standard input (-); pass the others as files");
        }

        foreach (string path in inputs)
        {
            if (path != CommonOptions.StdioName)
            {
                RequireFile(path);
            }
        }
    }

    internal static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file", path);
        }
    }
}

/// <summary>
/// Where a command writes a file that may be standard output: the path itself, or a temporary file that
/// <see cref="Commit"/> copies to standard output (so nothing reaches it unless the file was completed and verified).
/// </summary>
internal sealed class StdoutStaging : IDisposable
{
    private readonly CliContext _context;
    private readonly bool _toStdout;

    public StdoutStaging(CliContext context, string outputPath)
    {
        _context = context;
        _toStdout = outputPath == CommonOptions.StdioName;
        Path = _toStdout ? System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"z4ai-stdout-{Guid.NewGuid():N}.tmp") : outputPath;
    }

    /// <summary>The file to write.</summary>
    public string Path { get; }

    /// <summary>Copies the completed file to standard output, when that is the destination.</summary>
    public void Commit()
    {
        if (!_toStdout)
        {
            return;
        }

        using FileStream file = File.OpenRead(Path);
        using Stream stdout = _context.OpenStandardOutput();
        file.CopyTo(stdout);
        stdout.Flush();
    }

    public void Dispose()
    {
        if (_toStdout)
        {
            File.Delete(Path);
        }
    }
}
