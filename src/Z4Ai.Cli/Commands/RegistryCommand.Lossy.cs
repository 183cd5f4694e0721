using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Z4Ai.Cli.Commands;

/// <content>Lossy versions: <c>add --tier</c>, <c>certify</c> and <c>info</c> (docs/registry-format.md, section 6).</content>
internal static partial class RegistryCommand
{
    private const string LossyAddHelp =
        " With --tier int8|int4|sparse|1bit the version is stored lossy (each tensor a quantised delta against the parent's; norms, biases and small "
        + "tensors stay exact) and published only with a passing fidelity certificate from --certify fashion-mnist or --eval-command CMD, unless --force; "
        + "a refused add (exit code 2) leaves the registry unchanged. get then restores the certified reconstruction, not the original.";

    /// <summary>The lossy options of <c>add</c>, and <c>--force</c>.</summary>
    private sealed class LossyAddOptions
    {
        public LossyDeltaCli.Options Lossy { get; } = new();

        public Option<bool> Force { get; } = new("--force", "-f") { Description = "with --tier: store the version even without a passing certificate (listed as forced or failed)" };

        public Option<bool> NoBaseEval { get; } = new("--no-base-eval") { Description = "with --tier: do not evaluate the parent (the certificate then has no base metric)" };

        public void AddTo(Command command)
        {
            Lossy.AddTo(command);
            command.Options.Add(Force);
            command.Options.Add(NoBaseEval);
        }

        /// <summary>The lossy settings when <c>--tier</c> was given, else null (a lossless add).</summary>
        public RegistryLossyOptions? Build(ParseResult parse, CompressionEffort effort)
        {
            string? tierName = parse.GetValue(Lossy.Tier);
            if (tierName is null)
            {
                if (Lossy.CertificationWithoutTier(parse) || parse.GetValue(Force))
                {
                    throw new CliUsageException("--certify, --eval-command and --force apply to lossy versions: add --tier int8|int4|sparse|1bit");
                }

                return null;
            }

            if (!LossyTiers.TryParse(tierName, out LossyTier? tier) || tier == LossyTier.Lossless)
            {
                throw new CliUsageException($"--tier {tierName}: expected int8, int4, sparse or 1bit (leave --tier out for a lossless version)");
            }

            CertificationCriteria criteria = Criteria(parse, Lossy.MaxDrop, Lossy.MinP);
            ICertificationTask? task = Lossy.ResolveTask(parse);
            if (task is null && !parse.GetValue(Force))
            {
                throw new CliUsageException(
                    "a lossy version is stored only with a passing fidelity certificate: add --certify fashion-mnist or --eval-command CMD (or --force to store it uncertified)");
            }

            return new RegistryLossyOptions
            {
                Lossy = Lossy.BuildOptions(parse, tier.Value, effort),
                Task = task,
                Criteria = criteria,
                Force = parse.GetValue(Force),
                EvaluateBase = !parse.GetValue(NoBaseEval),
            };
        }
    }

    private static CertificationCriteria Criteria(ParseResult parse, Option<double> maxDrop, Option<double> minP)
    {
        var criteria = new CertificationCriteria(parse.GetValue(maxDrop), parse.GetValue(minP));
        try
        {
            criteria.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliUsageException($"--max-drop/--min-p: {ex.Message.Split(Environment.NewLine)[0]}");
        }

        return criteria;
    }

    private static Command Certify()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument("the lossy version to certify");
        var target = new Option<string>("--target", "-t") { Description = "the model the version was made from (a lossy version does not keep it; its identity is checked)", Required = true };
        var task = new Option<string?>("--task") { Description = "the built-in task: fashion-mnist" };
        var evalCommand = new Option<string?>("--eval-command") { Description = "a command that gets a .safetensors path as its last argument and prints JSON such as {\"metric\": 88.4, \"correct\": [...]}" };
        var data = new Option<string?>("--data") { Description = "the folder of the Fashion-MNIST idx files (default: Z4AI_FASHION_MNIST_DIR or Debian's dataset-fashion-mnist location)" };
        var limit = new Option<int>("--limit") { Description = "with --task fashion-mnist: evaluate the first N test images (default: all)", DefaultValueFactory = _ => 0 };
        var maxDrop = new Option<double>("--max-drop") { Description = "the largest allowed drop of the metric, in its units", DefaultValueFactory = _ => 0.2 };
        var minP = new Option<double>("--min-p") { Description = "the smallest allowed exact McNemar p-value", DefaultValueFactory = _ => 0.05 };
        var noBase = new Option<bool>("--no-base-eval") { Description = "do not evaluate the version's reference" };
        Option<bool> json = Json();
        var command = new Command(
            "certify",
            "Certify lossy version NAME anew: evaluate the target it was made from and the version as stored with a task, and store the certificate as the version's "
            + "current one (bound by SHA-256 to the version). Exit code 2 when it does not pass (it is stored all the same and list shows 'failed').\n" + ExitCodes.HelpText)
        {
            dir, name, target, task, evalCommand, data, limit, maxDrop, minP, noBase, json,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            string targetPath = RequireInput(parse.GetValue(target)!);
            CertificationCriteria criteria = Criteria(parse, maxDrop, minP);
            string? taskName = parse.GetValue(task);
            string? commandText = parse.GetValue(evalCommand);
            if ((taskName is null) == (commandText is null))
            {
                throw new CliUsageException("give exactly one of --task TASK and --eval-command CMD");
            }

            ICertificationTask evaluator = commandText is not null
                ? new ExternalCommandTask(string.IsNullOrWhiteSpace(commandText) ? throw new CliUsageException("--eval-command needs a command") : commandText)
                : taskName == "fashion-mnist"
                    ? new FashionMnistTask(parse.GetValue(data), Math.Max(0, parse.GetValue(limit)))
                    : throw new CliUsageException($"unknown task '{taskName}'; the built-in task is fashion-mnist (or use --eval-command)");
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!, write: true));
            FidelityCertificate certificate = registry.Certify(parse.GetValue(name)!, targetPath, evaluator, criteria, !parse.GetValue(noBase));
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(certificate.ToJson().TrimEnd());
            }
            else
            {
                CertifyCommand.WriteSummary(context.Output, certificate);
                context.Output.WriteLine($"certificate {certificate.ComputeSha256()} stored for '{parse.GetValue(name)}' ({(certificate.Passed ? "passed" : "did NOT pass")})");
            }

            return certificate.Passed ? ExitCodes.Ok : ExitCodes.BadInput;
        }));
        return command;
    }

    private static Command Info()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument();
        Option<bool> json = Json();
        var command = new Command("info", "Describe version NAME: lineage, tier, sizes and, for a lossy version, its current certificate (what was measured, on what, the result).\n" + ExitCodes.HelpText)
        {
            dir, name, json,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            RegistryVersion version = registry.GetVersion(parse.GetValue(name)!);
            FidelityCertificate? certificate = registry.GetCertificate(version.Name);
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(Write(w =>
                {
                    w.WriteStartObject();
                    w.WritePropertyName("version");
                    WriteVersion(w, version);
                    w.WritePropertyName("certificate");
                    if (certificate is null)
                    {
                        w.WriteNullValue();
                    }
                    else
                    {
                        using JsonDocument doc = JsonDocument.Parse(certificate.ToUtf8Json());
                        doc.WriteTo(w);
                    }

                    w.WriteEndObject();
                }));
                return ExitCodes.Ok;
            }

            context.Output.WriteLine($"version:     {version.Name}");
            context.Output.WriteLine($"parent:      {version.Parent ?? "(base)"}");
            context.Output.WriteLine($"tier:        {version.Tier}");
            context.Output.WriteLine($"certificate: {CertificateText(version)}");
            context.Output.WriteLine($"created:     {version.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC");
            context.Output.WriteLine($"tensors:     {version.TensorCount} in {version.FileCount} file(s)");
            context.Output.WriteLine($"size:        {Units.Bytes(version.LogicalBytes)} logical, {Units.Bytes(version.StoredBytes + version.ManifestBytes)} stored ({Units.Ratio(version.Ratio)})");
            if (certificate is not null)
            {
                CertifyCommand.WriteSummary(context.Output, certificate);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The certificate state in words: none (lossless), passed, failed, forced.</summary>
    internal static string CertificateStatusName(RegistryCertificateStatus status) => status switch
    {
        RegistryCertificateStatus.Passed => "passed",
        RegistryCertificateStatus.Failed => "failed",
        RegistryCertificateStatus.Forced => "forced",
        _ => "none",
    };

    private static string CertificateText(RegistryVersion v) => v.Certificate switch
    {
        RegistryCertificateStatus.None => "none (lossless: restores every byte)",
        RegistryCertificateStatus.Forced => "forced (stored with --force and no certificate)",
        RegistryCertificateStatus.Failed => $"failed ({v.CertificateSha256 ?? "damaged"}; stored with --force)",
        _ => $"passed ({v.CertificateSha256})",
    };

    private static void WriteLossyAddSummary(TextWriter o, RegistryAddReport report)
    {
        if (report.Certificate is { } certificate)
        {
            CertifyCommand.WriteSummary(o, certificate);
        }

        int approximated = report.Tensors.Count(t => t.Note is "int8" or "int4" or "sparse" or "1bit");
        o.WriteLine(
            $"tier {report.Tier}: {approximated} of {report.Tensors.Count} tensors approximated; certificate: "
            + (report.Certificate is null ? "none (stored uncertified because of --force)" : report.Certificate.Passed ? "passed" : "did NOT pass (stored because of --force)"));
    }
}
