using System.CommandLine;
using System.Globalization;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// <c>z4ai certify</c>: fidelity certificates for lossy deltas. <c>create</c> evaluates a delta's reconstruction
/// against its target and writes the certificate; <c>verify</c> checks a certificate against a delta; <c>show</c>
/// prints one; <c>train-fashion-mnist</c> trains the built-in task's base model and fine-tune.
/// </summary>
internal static class CertifyCommand
{
    /// <summary>Exit code of <c>create</c> when the certificate was written but did not pass its criteria.</summary>
    internal const int NotPassed = ExitCodes.BadInput;

    public static Command Create()
    {
        var command = new Command("certify", "Fidelity certificates for lossy deltas: create, verify, show; train the built-in Fashion-MNIST models.\n" + ExitCodes.HelpText)
        {
            CreateSubcommand(),
            VerifySubcommand(),
            ShowSubcommand(),
            TrainSubcommand(),
        };
        return command;
    }

    /// <summary>The task options shared with other commands that certify (<c>--task</c>, <c>--eval-command</c>, <c>--data</c>, <c>--limit</c>).</summary>
    internal sealed class TaskOptions
    {
        public Option<string?> Task { get; } = new("--task") { Description = "a built-in task: fashion-mnist" };

        public Option<string?> EvalCommand { get; } = new("--eval-command")
        {
            Description = "a command that gets the path of a .safetensors model as its last argument and prints JSON such as {\"metric\": 88.4, \"correct\": [...]}",
        };

        public Option<string?> Data { get; } = new("--data") { Description = "the folder of the Fashion-MNIST idx files (default: Z4AI_FASHION_MNIST_DIR or Debian's dataset-fashion-mnist location)" };

        public Option<int> Limit { get; } = new("--limit") { Description = "evaluate the first N test images (default: all 10,000)", DefaultValueFactory = _ => 0 };

        public void AddTo(Command command)
        {
            command.Options.Add(Task);
            command.Options.Add(EvalCommand);
            command.Options.Add(Data);
            command.Options.Add(Limit);
        }

        public ICertificationTask Resolve(ParseResult parse)
        {
            string? task = parse.GetValue(Task);
            string? evalCommand = parse.GetValue(EvalCommand);
            if ((task is null) == (evalCommand is null))
            {
                throw new CliUsageException("give exactly one of --task fashion-mnist or --eval-command CMD");
            }

            if (evalCommand is not null)
            {
                return new ExternalCommandTask(evalCommand);
            }

            return task switch
            {
                "fashion-mnist" => new FashionMnistTask(parse.GetValue(Data), Math.Max(0, parse.GetValue(Limit))),
                _ => throw new CliUsageException($"unknown task '{task}'; the built-in task is fashion-mnist (or use --eval-command)"),
            };
        }
    }

    private static Command CreateSubcommand()
    {
        var delta = new Argument<string>("delta") { Description = "the lossy delta (.z4al)" };
        var baseOption = new Option<string>("--base", "-b") { Description = "the base model the delta was made against", Required = true };
        var target = new Option<string>("--target", "-t") { Description = "the model the delta approximates", Required = true };
        var tasks = new TaskOptions();
        var maxDrop = new Option<double>("--max-drop") { Description = "the largest allowed drop of the metric, in its units (accuracy points for fashion-mnist)", DefaultValueFactory = _ => 0.2 };
        var minP = new Option<double>("--min-p") { Description = "the smallest allowed exact McNemar p-value when the task gives per-example results", DefaultValueFactory = _ => 0.05 };
        var noBase = new Option<bool>("--no-base-eval") { Description = "do not evaluate the base model" };
        Option<string?> output = CommonOptions.Output("the certificate to write (default: DELTA.cert.json)");
        Option<bool> force = CommonOptions.Force();
        var command = new Command("create", $"Reconstruct the delta, evaluate the target and the reconstruction with the same task, and write the certificate. Exit code {NotPassed} when it does not pass.\n" + ExitCodes.HelpText)
        {
            delta, baseOption, target, maxDrop, minP, noBase, output, force,
        };
        tasks.AddTo(command);
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string deltaPath = RequireFile(parse.GetValue(delta)!);
            string basePath = RequireFile(parse.GetValue(baseOption)!);
            string targetPath = RequireFile(parse.GetValue(target)!);
            string outputPath = parse.GetValue(output) ?? Path.ChangeExtension(deltaPath, null) + FidelityCertificate.FileExtension;
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            var criteria = new CertificationCriteria(parse.GetValue(maxDrop), parse.GetValue(minP));
            criteria.Validate();
            ICertificationTask task = tasks.Resolve(parse);
            FidelityCertificate certificate = LossyDelta.Certify(deltaPath, basePath, targetPath, task, criteria, !parse.GetValue(noBase));
            certificate.Save(outputPath);
            context.Output.WriteLine($"{deltaPath}: certificate written to {outputPath}");
            WriteSummary(context.Output, certificate);
            return certificate.Passed ? ExitCodes.Ok : NotPassed;
        }));
        return command;
    }

    private static Command VerifySubcommand()
    {
        var certificate = new Argument<string>("certificate") { Description = "the certificate (.cert.json)" };
        var delta = new Argument<string>("delta") { Description = "the lossy delta it claims to certify" };
        var command = new Command("verify", "Check that a certificate is bound to a delta (SHA-256, model identities, settings, per-tensor records) and consistent. Exit code 3 when it is not.\n" + ExitCodes.HelpText)
        {
            certificate, delta,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            FidelityCertificate c = FidelityCertificate.Load(RequireFile(parse.GetValue(certificate)!));
            CertificateVerification result = LossyDelta.Verify(c, RequireFile(parse.GetValue(delta)!));
            if (result.IsValid)
            {
                context.Output.WriteLine($"certificate: MATCH ({(c.Passed ? "passed" : "did not pass")} its criteria)");
                return ExitCodes.Ok;
            }

            context.Output.WriteLine($"certificate: MISMATCH ({result.Problems.Count} problems)");
            foreach (string problem in result.Problems)
            {
                context.Output.WriteLine($"  {problem}");
            }

            return ExitCodes.IntegrityFailure;
        }));
        return command;
    }

    private static Command ShowSubcommand()
    {
        var certificate = new Argument<string>("certificate") { Description = "the certificate (.cert.json)" };
        var command = new Command("show", "Print what a certificate says.\n" + ExitCodes.HelpText) { certificate };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            WriteSummary(context.Output, FidelityCertificate.Load(RequireFile(parse.GetValue(certificate)!)));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command TrainSubcommand()
    {
        var directory = new Argument<string>("directory") { Description = "where to write fashion-mnist-base.safetensors and fashion-mnist-finetune.safetensors" };
        var data = new Option<string?>("--data") { Description = "the folder of the Fashion-MNIST idx files" };
        var command = new Command("train-fashion-mnist", "Train (or reuse, when the recipe matches) the built-in task's base MLP and its fine-tune, deterministically.\n" + ExitCodes.HelpText)
        {
            directory, data,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            (string basePath, string fineTunePath) = FashionMnistTask.TrainModels(parse.GetValue(directory)!, dataDirectory: parse.GetValue(data));
            context.Output.WriteLine($"base: {basePath}");
            context.Output.WriteLine($"fine-tune: {fineTunePath}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static void WriteSummary(TextWriter output, FidelityCertificate c)
    {
        CertificateEvaluation e = c.Evaluation;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"certification: {(c.Passed ? "PASS" : "FAIL")} ({e.Task}, {c.Settings.Tier.GetName()}; max drop {c.Criteria.MaxDrop.ToString(inv)}, min p {c.Criteria.MinPValue.ToString(inv)})");
        output.WriteLine($"  {e.MetricName}: {Format(e.MetricBefore)} -> {Format(e.MetricAfter)} ({(e.MetricAfter - e.MetricBefore).ToString("+0.####;-0.####;0", inv)}) on {e.Examples} examples"
            + (e.BaseMetric is { } b ? $"; base {Format(b)}" : string.Empty));
        if (e.McNemarP is { } p)
        {
            output.WriteLine($"  prediction flips {e.PredictionFlips?.ToString(inv) ?? "n/a"}, lost {e.TargetOnlyCorrect}, gained {e.ReconstructedOnlyCorrect}, exact McNemar p = {p.ToString("0.####", inv)}, "
                + $"{(e.Confidence * 100).ToString("0.#", inv)}% CI of the accuracy change [{e.AccuracyChangeLow?.ToString("+0.###;-0.###;0", inv)}, {e.AccuracyChangeHigh?.ToString("+0.###;-0.###;0", inv)}] points");
        }

        output.WriteLine($"  evaluator: {e.Evaluator}; data SHA-256 {e.DataSha256 ?? "not given"}");
        output.WriteLine($"  delta SHA-256 {c.DeltaSha256} ({c.DeltaLength} bytes); base {c.BaseSha256}; target {c.TargetSha256}; reconstructed {c.ReconstructedSha256}");
        int lossy = c.Tensors.Count(t => !t.IsExact);
        LossyTensorInfo? worst = c.Tensors.Where(t => !t.IsExact).MaxBy(t => t.RelativeL2OfDelta);
        output.WriteLine($"  {lossy} of {c.Tensors.Count} tensors approximated"
            + (worst is null ? string.Empty : $"; worst relative L2 of the delta {worst.RelativeL2OfDelta.ToString("0.####", inv)} ({worst.Name}), max abs error {c.Tensors.Max(t => t.MaxAbs).ToString("G4", inv)}"));

        static string Format(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
    }

    private static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path}: no such file", path);
}
