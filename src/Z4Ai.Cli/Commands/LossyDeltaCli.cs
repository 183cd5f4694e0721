using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// The lossy side of <c>z4ai delta</c>, <c>undelta</c> and <c>info</c>: a <c>.z4al</c> is made in a scratch file next
/// to its destination, certified there, and moved into place with its certificate only when the storing rule
/// (<see cref="LossyDelta.EnsureCertified"/>) allows it, so a refused or failed run leaves nothing behind.
/// </summary>
internal static class LossyDeltaCli
{
    /// <summary>Where a delta's certificate lives: the delta's name with its extension replaced by <c>.cert.json</c>, as <c>z4ai certify create</c> writes it.</summary>
    public static string CertificatePath(string deltaPath) => Path.ChangeExtension(deltaPath, null) + FidelityCertificate.FileExtension;

    /// <summary>The options <c>z4ai delta</c> adds for lossy tiers.</summary>
    internal sealed class Options
    {
        public Option<string?> Tier { get; } = new("--tier") { Description = "store a lossy delta in this tier: int8, int4, sparse or 1bit (needs --certify or --eval-command, or --force)" };

        public Option<string?> Certify { get; } = new("--certify") { Description = "certify the lossy delta with a built-in task: fashion-mnist" };

        public Option<string?> EvalCommand { get; } = new("--eval-command")
        {
            Description = "certify the lossy delta with a command that gets a .safetensors path as its last argument and prints JSON such as {\"metric\": 88.4, \"correct\": [...]}",
        };

        public Option<string?> Data { get; } = new("--data") { Description = "the folder of the Fashion-MNIST idx files (default: Z4AI_FASHION_MNIST_DIR or Debian's dataset-fashion-mnist location)" };

        public Option<int> Limit { get; } = new("--limit") { Description = "with --certify fashion-mnist: evaluate the first N test images (default: all)", DefaultValueFactory = _ => 0 };

        public Option<double> MaxDrop { get; } = new("--max-drop") { Description = "the largest allowed drop of the metric, in its units (accuracy points for fashion-mnist)", DefaultValueFactory = _ => 0.2 };

        public Option<string[]> TensorTier { get; } = new("--tensor-tier")
        {
            Description = "override the tier of the tensors matching a name or glob (* and ?): PATTERN=TIER, repeatable; e.g. '*.lm_head.*=lossless'",
            AllowMultipleArgumentsPerToken = false,
        };

        public Option<int> GroupSize { get; } = new("--group-size") { Description = "values per quantization scale (0: one scale per row)", DefaultValueFactory = _ => 0 };

        public Option<double?> Outliers { get; } = new("--outliers") { Description = "int4: the fraction of largest-magnitude delta values kept exactly (default 0.005)" };

        public Option<double?> Keep { get; } = new("--keep") { Description = "sparse: the fraction of delta values kept (default 0.05)" };

        public Option<double> MinP { get; } = new("--min-p") { Description = "the smallest allowed exact McNemar p-value when the evaluator gives per-example results", DefaultValueFactory = _ => 0.05 };

        public void AddTo(Command command)
        {
            command.Options.Add(Tier);
            command.Options.Add(Certify);
            command.Options.Add(EvalCommand);
            command.Options.Add(Data);
            command.Options.Add(Limit);
            command.Options.Add(MaxDrop);
            command.Options.Add(MinP);
            command.Options.Add(TensorTier);
            command.Options.Add(GroupSize);
            command.Options.Add(Outliers);
            command.Options.Add(Keep);
        }

        /// <summary>The tier settings from the command line; every value is checked before any work starts.</summary>
        public LossyOptions BuildOptions(ParseResult parse, LossyTier tier, CompressionEffort effort)
        {
            var options = new LossyOptions { Tier = tier, Effort = effort };
            try
            {
                options.GroupSize = parse.GetValue(GroupSize);
                if (parse.GetValue(Outliers) is { } outliers)
                {
                    options.OutlierFraction = outliers;
                }

                if (parse.GetValue(Keep) is { } keep)
                {
                    options.SparseFraction = keep;
                }
            }
            catch (ArgumentOutOfRangeException ex)
            {
                throw new CliUsageException($"--group-size/--outliers/--keep: {ex.Message.Split(Environment.NewLine)[0]}");
            }

            foreach (string pair in parse.GetValue(TensorTier) ?? [])
            {
                int eq = pair.LastIndexOf('=');
                if (eq <= 0 || !LossyTiers.TryParse(pair[(eq + 1)..], out LossyTier? t))
                {
                    throw new CliUsageException($"--tensor-tier {pair}: expected PATTERN=TIER with TIER one of lossless, int8, int4, sparse, 1bit");
                }

                options.TensorTiers.Add(new KeyValuePair<string, LossyTier>(pair[..eq], t.Value));
            }

            return options;
        }

        /// <summary>The evaluator asked for, or null when none was.</summary>
        public ICertificationTask? ResolveTask(ParseResult parse)
        {
            string? task = parse.GetValue(Certify);
            string? evalCommand = parse.GetValue(EvalCommand);
            if (task is not null && evalCommand is not null)
            {
                throw new CliUsageException("give at most one of --certify TASK and --eval-command CMD");
            }

            if (evalCommand is not null)
            {
                if (string.IsNullOrWhiteSpace(evalCommand))
                {
                    throw new CliUsageException("--eval-command needs a command");
                }

                return new ExternalCommandTask(evalCommand);
            }

            return task switch
            {
                null => null,
                "fashion-mnist" => new FashionMnistTask(parse.GetValue(Data), Math.Max(0, parse.GetValue(Limit))),
                _ => throw new CliUsageException($"unknown task '{task}'; the built-in task is fashion-mnist (or use --eval-command)"),
            };
        }

        /// <summary>True when any certification option was given without <c>--tier</c> (a usage error).</summary>
        public bool CertificationWithoutTier(ParseResult parse) =>
            parse.GetValue(Tier) is null && (parse.GetValue(Certify) is not null || parse.GetValue(EvalCommand) is not null);
    }

    /// <summary>Runs <c>z4ai delta --tier</c>: write, certify, apply the storing rule, then move both files into place.</summary>
    public static int RunDelta(CliContext context, ParseResult parse, Options options, string targetPath, string basePath, string? outputOption, CompressionEffort effort, bool force, bool quiet, bool stats)
    {
        string tierName = parse.GetValue(options.Tier)!;
        if (!LossyTiers.TryParse(tierName, out LossyTier? tier) || tier == LossyTier.Lossless)
        {
            throw new CliUsageException($"--tier {tierName}: expected int8, int4, sparse or 1bit (leave --tier out for a lossless delta)");
        }

        var criteria = new CertificationCriteria(parse.GetValue(options.MaxDrop), parse.GetValue(options.MinP));
        try
        {
            criteria.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliUsageException($"--max-drop/--min-p: {ex.Message.Split(Environment.NewLine)[0]}");
        }

        LossyOptions lossyOptions = options.BuildOptions(parse, tier.Value, effort);
        ICertificationTask? task = options.ResolveTask(parse);
        if (task is null && !force)
        {
            // Refuse before doing any work: without an evaluator there can be no certificate, and without one a
            // lossy delta may only be stored when forced.
            throw new CliUsageException("a lossy delta is stored only with a passing fidelity certificate: add --certify fashion-mnist or --eval-command CMD (or --force to store it uncertified)");
        }

        string outputPath = outputOption ?? targetPath + LossyDelta.FileExtension;
        string certificatePath = CertificatePath(outputPath);
        CommonOptions.EnsureCanWrite(outputPath, force);
        CommonOptions.EnsureCanWrite(certificatePath, force);

        string directory = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        string stamp = Guid.NewGuid().ToString("N");
        string scratchDelta = Path.Combine(directory, $".{Path.GetFileName(outputPath)}.{stamp}.tmp");
        string scratchCertificate = Path.Combine(directory, $".{Path.GetFileName(certificatePath)}.{stamp}.tmp");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            LossyDeltaInfo info = LossyDelta.Compress(targetPath, basePath, scratchDelta, lossyOptions, new ThrottledProgress(context.Error, quiet));
            FidelityCertificate? certificate = task is null ? null : LossyDelta.Certify(scratchDelta, basePath, targetPath, task, criteria);
            if (certificate is not null && !quiet)
            {
                CertifyCommand.WriteSummary(context.Output, certificate);
            }

            // Throws (and the finally block removes the scratch files) unless the delta may be stored.
            CertificationStatus status = LossyDelta.EnsureCertified(scratchDelta, certificate, force);
            certificate?.Save(scratchCertificate);

            // The certificate goes first: should the last move fail, a certificate bound by SHA-256 to bytes that are
            // not there claims nothing, whereas a delta next to a stale certificate would look certified.
            if (certificate is not null)
            {
                File.Move(scratchCertificate, certificatePath, overwrite: true);
            }
            else if (File.Exists(certificatePath))
            {
                // A certificate left from an earlier run describes other bytes; it must not sit next to this delta.
                File.Delete(certificatePath);
            }

            File.Move(scratchDelta, outputPath, overwrite: true);

            if (!quiet)
            {
                int lossy = info.Tensors.Count(t => !t.IsExact);
                context.Output.WriteLine(
                    $"{targetPath} against {basePath} -> {outputPath}: {tier.Value.GetName()}, {lossy} of {info.Tensors.Count} tensors approximated, "
                    + $"{Units.Bytes(info.RawBytes)} -> {Units.Bytes(new FileInfo(outputPath).Length)} ({Units.Ratio((double)info.RawBytes / Math.Max(1, new FileInfo(outputPath).Length))})");
                context.Output.WriteLine(status switch
                {
                    CertificationStatus.Certified => $"certificate: {certificatePath} (passed)",
                    CertificationStatus.NotRequired => certificate is null ? "certificate: not needed (the reconstruction is exact)" : $"certificate: {certificatePath} (the reconstruction is exact)",
                    _ => certificate is null ? "certificate: none (stored uncertified because of --force)" : $"certificate: {certificatePath} (did NOT pass; stored because of --force)",
                });
            }

            if (stats)
            {
                context.Output.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(info.RawBytes, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
            }

            return ExitCodes.Ok;
        }
        finally
        {
            File.Delete(scratchDelta);
            File.Delete(scratchCertificate);
        }
    }

    /// <summary>The default output of <c>undelta</c> on a <c>.z4al</c>: its name without the extension.</summary>
    public static string DefaultUndeltaOutput(string delta)
    {
        if (!delta.EndsWith(LossyDelta.FileExtension, StringComparison.OrdinalIgnoreCase))
        {
            throw new CliUsageException("cannot derive the output name: pass -o OUTPUT");
        }

        string output = delta[..^LossyDelta.FileExtension.Length];
        return output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? output : output + ".safetensors";
    }

    /// <summary><c>z4ai info</c> on a <c>.z4al</c>: tier, settings, identities, per-tensor errors and the certificate next to it, checked.</summary>
    public static int Info(CliContext context, string path, bool json)
    {
        LossyDeltaInfo info = LossyDelta.Inspect(path);
        string certificatePath = CertificatePath(path);
        FidelityCertificate? certificate = null;
        string certificateStatus;
        CertificateVerification? verification = null;
        if (!File.Exists(certificatePath))
        {
            certificateStatus = info.IsLossy ? "none (uncertified)" : "none (not needed: the reconstruction is exact)";
        }
        else
        {
            try
            {
                certificate = FidelityCertificate.Load(certificatePath);
                verification = LossyDelta.Verify(certificate, path);
                certificateStatus = verification.IsValid
                    ? $"{certificatePath}: matches this delta, {(certificate.Passed ? "PASSED" : "did NOT pass")} its criteria"
                    : $"{certificatePath}: does NOT match this delta ({verification.Problems.Count} problems)";
            }
            catch (Z4AiException ex)
            {
                certificateStatus = $"{certificatePath}: unreadable ({ex.Message})";
            }
        }

        if (json)
        {
            context.Output.WriteLine(Json(info, certificateStatus, certificate, verification));
            return ExitCodes.Ok;
        }

        LossyTierSettings s = info.Settings;
        var inv = CultureInfo.InvariantCulture;
        context.Output.WriteLine($"{path}: lossy delta v{info.FormatVersion}, tier {s.Tier.GetName()}, {info.Tensors.Count(t => !t.IsExact)} of {info.Tensors.Count} tensors approximated, "
            + $"{Units.Bytes(info.RawBytes)} raw -> {Units.Bytes(info.FileLength)} ({Units.Ratio(info.Ratio)})");
        context.Output.WriteLine($"settings: group size {(s.GroupSize == 0 ? "row" : s.GroupSize.ToString(inv))}, outliers {s.OutlierFraction.ToString("0.####", inv)}, sparse keep {s.SparseFraction.ToString("0.####", inv)}, "
            + $"drop-and-rescale {(s.DropAndRescale ? "yes" : "no")}, refined scales {(s.RefineScales ? "yes" : "no")}, min elements {s.MinElements.ToString(inv)}");
        context.Output.WriteLine($"base model: {info.BaseSha256}");
        context.Output.WriteLine($"target model: {info.TargetSha256}");
        context.Output.WriteLine($"reconstructed model: {info.ReconstructedSha256}");
        context.Output.WriteLine($"certificate: {certificateStatus}");
        if (certificate is not null && verification is { IsValid: true })
        {
            CertifyCommand.WriteSummary(context.Output, certificate);
        }
        else if (verification is { IsValid: false })
        {
            foreach (string problem in verification.Problems)
            {
                context.Output.WriteLine($"  {problem}");
            }
        }

        List<string[]> rows = [["tensor", "dtype", "shape", "mode", "raw", "stored", "rel. L2", "max abs"]];
        foreach (LossyTensorInfo t in info.Tensors)
        {
            rows.Add(
            [
                t.Name, t.DType.GetName(), "[" + string.Join(",", t.Shape) + "]", t.IsExact ? "exact" : t.Mode.GetName(),
                Units.Bytes(t.RawBytes), Units.Bytes(t.StoredBytes), t.RelativeL2.ToString("0.####E+0", inv), t.MaxAbs.ToString("G4", inv),
            ]);
        }

        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (string[] row in rows)
        {
            for (int c = 0; c < row.Length; c++)
            {
                sb.Append(c >= 4 ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
                sb.Append(c == row.Length - 1 ? string.Empty : "  ");
            }

            sb.AppendLine();
        }

        context.Output.WriteLine(sb.ToString().TrimEnd());
        return ExitCodes.Ok;
    }

    private static string Json(LossyDeltaInfo info, string certificateStatus, FidelityCertificate? certificate, CertificateVerification? verification)
    {
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", info.FilePath);
            w.WriteString("kind", "lossy-delta");
            w.WriteNumber("formatVersion", info.FormatVersion);
            w.WriteString("tier", info.Settings.Tier.GetName());
            w.WriteNumber("fileBytes", info.FileLength);
            w.WriteNumber("rawBytes", info.RawBytes);
            w.WriteString("sha256", info.FileSha256);
            w.WriteString("baseModelSha256", info.BaseSha256);
            w.WriteString("targetModelSha256", info.TargetSha256);
            w.WriteString("reconstructedModelSha256", info.ReconstructedSha256);
            w.WriteStartObject("certificate");
            w.WriteString("status", certificateStatus);
            w.WriteBoolean("present", certificate is not null);
            w.WriteBoolean("matches", verification is { IsValid: true });
            w.WriteBoolean("passed", certificate is { Passed: true } && verification is { IsValid: true });
            w.WriteEndObject();
            w.WriteStartArray("tensors");
            foreach (LossyTensorInfo t in info.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("dtype", t.DType.GetName());
                w.WriteString("mode", t.IsExact ? "exact" : t.Mode.GetName());
                w.WriteNumber("rawBytes", t.RawBytes);
                w.WriteNumber("storedBytes", t.StoredBytes);
                w.WriteNumber("relativeL2", t.RelativeL2);
                w.WriteNumber("maxAbs", t.MaxAbs);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
