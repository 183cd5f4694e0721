using System.CommandLine;
using System.Globalization;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// <c>z4ai registry</c> (also <c>z4ai model-zoo</c>): a model family stored once, every version a verified delta.
/// Each verb is a few lines over <see cref="ModelRegistry"/>.
/// </summary>
internal static partial class RegistryCommand
{
    private const string Summary =
        "Store a model family once: a base plus fine-tunes and checkpoints, every tensor content-addressed and kept as a "
        + "verified lossless delta (against the parent or the base) or from scratch, whichever is smallest. Every lossless version restores byte for byte; "
        + "a lossy version (add --tier) is published only with a fidelity certificate.";

    /// <summary>Builds the command under <paramref name="name"/> (<c>registry</c> or <c>model-zoo</c>; same verbs).</summary>
    public static Command Create(string name)
    {
        var command = new Command(name, Summary + "\n" + ExitCodes.HelpText)
        {
            Init(), Add(), Import(), Get(), Export(), GetTensor(), Verify(), List(), Log(), Info(), Certify(), Remove(), Gc(), Sync(),
        };
        foreach (Option option in RemoteOptions())
        {
            command.Options.Add(option);
        }

        return command;
    }

    private static Argument<string> DirectoryArgument() => new("dir") { Description = "the registry: a directory or s3://bucket/prefix" };

    private static Argument<string> VersionArgument(string description = "the version name") => new("name") { Description = description };

    private static Option<bool> Json() => new("--json") { Description = "print JSON for scripts instead of text" };

    private static Option<int> MaxDepth() => new("--max-depth")
    {
        Description = "the longest delta chain a tensor may sit on (1-255); bounds the cost of reading any version",
        DefaultValueFactory = _ => RegistryOptions.DefaultMaxChainDepth,
    };

    private static Option<string> ChunkSize() => new("--chunk-size")
    {
        Description = "raw bytes per chunk of a scratch object, a power of two from 4K to 64M",
        DefaultValueFactory = _ => "4M",
    };

    private static Option<double> LockTimeout() => new("--lock-timeout")
    {
        Description = "seconds to wait for another process holding the registry lock",
        DefaultValueFactory = _ => 120,
    };

    private static Command Init()
    {
        Argument<string> dir = DirectoryArgument();
        var model = new Argument<string>("base") { Description = "the base model: a .safetensors file, a sharding index or its directory" };
        var name = new Option<string?>("--name", "-n") { Description = "the base version's name (default: from the file name)" };
        Option<int> depth = MaxDepth();
        Option<string> effort = CommonOptions.Effort();
        Option<string> chunk = ChunkSize();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("init", "Create a registry in DIR whose base version is BASE.\n" + ExitCodes.HelpText)
        {
            dir, model, name, depth, effort, chunk, quiet,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            string path = RequireInput(parse.GetValue(model)!);
            RegistryOptions options = Options(parse, depth, effort, chunk, null);
            var progress = new ThrottledProgress(context.Error, parse.GetValue(quiet));
            ModelRegistry registry = ModelRegistry.Init(OpenStore(parse, parse.GetValue(dir)!, create: true), path, parse.GetValue(name), options, progress);
            RegistryVersion version = registry.GetVersion(registry.BaseName);
            context.Output.WriteLine(
                $"initialised {parse.GetValue(dir)} with base '{version.Name}': {version.TensorCount} tensors, {Units.Bytes(version.LogicalBytes)} -> {Units.Bytes(version.StoredBytes + version.ManifestBytes)} stored ({Units.Ratio(version.Ratio)})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Add() => AddLike("add", "Add FILE to the registry in DIR as a new version.", "the model: a .safetensors (or .z4ai) file", import: false);

    private static Command Import() => AddLike(
        "import",
        "Add a sharded Hugging Face layout (model.safetensors.index.json and its shards) as a new version; export restores it byte for byte.",
        "the sharding index, or the directory holding it",
        import: true);

    private static Command AddLike(string verb, string description, string modelDescription, bool import)
    {
        Argument<string> dir = DirectoryArgument();
        var model = new Argument<string>("model") { Description = modelDescription };
        var name = new Option<string?>("--name", "-n") { Description = "the new version's name (default: from the file name)" };
        var parent = new Option<string?>("--parent", "-p") { Description = "the version it derives from (default: the most recently added)" };
        Option<int> depth = MaxDepth();
        Option<string> effort = CommonOptions.Effort();
        Option<string> chunk = ChunkSize();
        Option<double> wait = LockTimeout();
        Option<bool> json = Json();
        Option<bool> quiet = CommonOptions.Quiet();
        var with = new Option<string[]>("--with") { Description = "a text file to keep with the version (archive-coded; restored by get and export), besides the config, tokenizer, README and *.txt files found next to the model; repeatable (lossless versions only)" };
        var command = new Command(
            verb,
            description + " Per tensor it stores the smallest of: nothing (already stored), a delta against the parent, a delta against the base, or from scratch."
            + (import ? string.Empty : LossyAddHelp) + "\n" + ExitCodes.HelpText)
        {
            dir, model, name, parent, depth, effort, chunk, wait, json, quiet, with,
        };
        LossyAddOptions? lossyOptions = import ? null : new LossyAddOptions();
        lossyOptions?.AddTo(command);
        command.SetAction(parse => Run(parse, context =>
        {
            string path = RequireInput(parse.GetValue(model)!);
            RegistryOptions options = Options(parse, depth, effort, chunk, wait);
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!, write: true), options);
            var progress = new ThrottledProgress(context.Error, parse.GetValue(quiet) || parse.GetValue(json));
            RegistryLossyOptions? lossy = lossyOptions?.Build(parse, options.Effort);
            if (lossy is not null && parse.GetValue(with) is { Length: > 0 })
            {
                // A lossy version restores a reconstruction, not the added file; its text files are not kept yet.
                throw new CliUsageException("--with keeps text files with lossless versions only; drop it or --tier");
            }

            RegistryAddReport report = import
                ? registry.Import(path, parse.GetValue(name), parse.GetValue(parent), progress, textFiles: parse.GetValue(with))
                : lossy is not null
                    ? registry.Add(path, lossy, parse.GetValue(name), parse.GetValue(parent), progress)
                    : registry.Add(path, parse.GetValue(name), parse.GetValue(parent), progress, textFiles: parse.GetValue(with));
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(AddJson(report));
            }
            else if (!parse.GetValue(quiet))
            {
                if (lossy is not null)
                {
                    WriteLossyAddSummary(context.Output, report);
                }

                WriteAddSummary(context.Output, report);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Get()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument();
        var output = new Option<string>("--out", "-o", "--output") { Description = "the .safetensors file to write", Required = true };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("get", "Restore version NAME as a .safetensors file, byte for byte the file it was added from (every tensor and the whole file SHA-256 verified).\n" + ExitCodes.HelpText)
        {
            dir, name, output, force, quiet,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            string outputPath = parse.GetValue(output)!;
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            registry.Get(parse.GetValue(name)!, outputPath, new ThrottledProgress(context.Error, parse.GetValue(quiet)));
            long length = new FileInfo(outputPath).Length;
            if (!parse.GetValue(quiet))
            {
                context.Output.WriteLine($"{parse.GetValue(name)} -> {outputPath}: {Units.Bytes(length)}, verified (SHA-256), {Units.Rate(length, clock.Elapsed)}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Export()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument();
        var output = new Option<string>("--out-dir", "-o") { Description = "the directory to write the files into", Required = true };
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("export", "Write every file of version NAME (the shards and the sharding index of an imported layout) into a directory, byte for byte and verified.\n" + ExitCodes.HelpText)
        {
            dir, name, output, quiet,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            IReadOnlyList<string> written = registry.Export(parse.GetValue(name)!, parse.GetValue(output)!, new ThrottledProgress(context.Error, parse.GetValue(quiet)));
            foreach (string path in written)
            {
                context.Output.WriteLine($"{path}: {Units.Bytes(new FileInfo(path).Length)}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command GetTensor()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument();
        var tensor = new Argument<string>("tensor") { Description = "the tensor name" };
        var output = new Option<string>("--out", "-o", "--output") { Description = "where to write the tensor's raw bytes; - for standard output", Required = true };
        var format = new Option<string>("--as") { Description = "raw (the tensor's bytes) or safetensors (a one-tensor file)", DefaultValueFactory = _ => "raw" }
            .AcceptOnlyFromAmong("raw", "safetensors");
        Option<bool> force = CommonOptions.Force();
        var command = new Command("get-tensor", "Fetch one tensor of version NAME, decoding only its own object (and delta chain); it is SHA-256 verified before it is written.\n" + ExitCodes.HelpText)
        {
            dir, name, tensor, output, format, force,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            string outputPath = parse.GetValue(output)!;
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            string tensorName = parse.GetValue(tensor)!;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Tensor value = registry.GetTensor(parse.GetValue(name)!, tensorName);
            clock.Stop();
            bool asSafeTensors = parse.GetValue(format) == "safetensors";
            var single = new Dictionary<string, Tensor> { [tensorName] = value };
            var plain = new SaveOptions { Format = StorageFormat.SafeTensors };
            if (outputPath == CommonOptions.StdioName)
            {
                using Stream stdout = context.OpenStandardOutput();
                if (asSafeTensors)
                {
                    SafeTensorsCompat.Save(single, stdout, options: plain);
                }
                else
                {
                    stdout.Write(value.Data.Span);
                }

                return ExitCodes.Ok;
            }

            if (asSafeTensors)
            {
                SafeTensorsCompat.SaveFile(single, outputPath, options: plain);
            }
            else
            {
                string temp = outputPath + ".partial";
                File.WriteAllBytes(temp, value.Data.ToArray());
                File.Move(temp, outputPath, overwrite: true);
            }

            context.Output.WriteLine($"{tensorName}: {value} -> {outputPath} ({Units.Bytes(value.Data.Length)}, verified, {clock.Elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms)");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Verify()
    {
        Argument<string> dir = DirectoryArgument();
        var name = new Argument<string?>("name") { Description = "check only this version (default: the whole registry)", Arity = ArgumentArity.ZeroOrOne };
        Option<bool> json = Json();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command("verify", "Re-hash every object a version (or the whole registry) needs. Prints 'integrity: PASS (SHA-256)', or 'integrity: FAIL' with each damaged object or manifest and the versions it breaks (exit code 3).\n" + ExitCodes.HelpText)
        {
            dir, name, json, quiet,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            RegistryVerifyReport report = registry.Verify(parse.GetValue(name), new ThrottledProgress(context.Error, parse.GetValue(quiet) || parse.GetValue(json)));
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(VerifyJson(report));
            }
            else
            {
                WriteVerify(context.Output, report);
            }

            return report.Passed ? ExitCodes.Ok : ExitCodes.IntegrityFailure;
        }));
        return command;
    }

    private static Command List()
    {
        Argument<string> dir = DirectoryArgument();
        Option<bool> json = Json();
        var command = new Command("list", "List every version: parent, tier, created, tensors, logical bytes, bytes it stored and the ratio, with totals against storing each version in full.\n" + ExitCodes.HelpText)
        {
            dir, json,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            IReadOnlyList<RegistryVersion> versions = registry.List();
            long objects = registry.GetStoredBytes();
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(ListJson(registry.BaseName, versions, objects));
            }
            else
            {
                WriteList(context.Output, versions, objects);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Log()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument();
        Option<bool> json = Json();
        var command = new Command("log", "Show the lineage of version NAME back to the base.\n" + ExitCodes.HelpText)
        {
            dir, name, json,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            IReadOnlyList<RegistryVersion> lineage = registry.Log(parse.GetValue(name)!);
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(VersionsJson(lineage));
            }
            else
            {
                WriteLog(context.Output, lineage);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Remove()
    {
        Argument<string> dir = DirectoryArgument();
        Argument<string> name = VersionArgument();
        var force = new Option<bool>("--force", "-f") { Description = "remove it even if other versions name it as parent (their data stays intact)" };
        var command = new Command("rm", "Remove version NAME. Its objects are freed by gc once no other version needs them; the base cannot be removed.\n" + ExitCodes.HelpText)
        {
            dir, name, force,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!));
            registry.Remove(parse.GetValue(name)!, parse.GetValue(force));
            context.Output.WriteLine($"removed {parse.GetValue(name)}; run gc to free the space it alone used");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Gc()
    {
        Argument<string> dir = DirectoryArgument();
        var grace = new Option<string>("--grace") { Description = "spare objects younger than this (examples: 0, 30s, 10m, 1h, 2d)", DefaultValueFactory = _ => "1h" };
        Option<double> wait = LockTimeout();
        Option<bool> json = Json();
        var command = new Command("gc", "Delete objects no version needs that are older than the grace period. Waits for adds in progress (the registry lock) and never removes an object a version reaches.\n" + ExitCodes.HelpText)
        {
            dir, grace, wait, json,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            var options = new RegistryOptions { LockTimeout = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(wait))) };
            ModelRegistry registry = ModelRegistry.Open(OpenStore(parse, parse.GetValue(dir)!, write: true), options);
            RegistryGcReport report = registry.Gc(ParseDuration(parse.GetValue(grace)!));
            if (parse.GetValue(json))
            {
                context.Output.WriteLine(GcJson(report));
            }
            else
            {
                context.Output.WriteLine(
                    $"gc: {report.ObjectsDeleted} of {report.ObjectsScanned} objects deleted ({Units.Bytes(report.BytesFreed)} freed), {report.ObjectsReachable} in use, "
                    + $"{report.ObjectsSpared} spared by the grace period, {report.TemporaryFilesDeleted} stray temporary files removed");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int Run(ParseResult parse, Func<CliContext, int> body) => CliContext.Run(parse, context =>
    {
        try
        {
            return body(context);
        }
        catch (Z4AiRegistryException ex)
        {
            string what = ex.Kind == Z4AiErrorKind.Conflict ? "conflict" : "not found";
            context.Error.WriteLine($"z4ai: {what}: {ex.Message}");
            return ExitCodes.BadInput;
        }
    });

    private static RegistryOptions Options(
        ParseResult parse, Option<int> depth, Option<string> effort, Option<string> chunk, Option<double>? wait)
    {
        int maxDepth = parse.GetValue(depth);
        if (maxDepth is < 1 or > 255)
        {
            throw new CliUsageException($"--max-depth must be from 1 to 255, got {maxDepth}");
        }

        int chunkSize = Units.ParseSize(parse.GetValue(chunk)!);
        if (chunkSize < (4 << 10) || chunkSize > (64 << 20) || (chunkSize & (chunkSize - 1)) != 0)
        {
            throw new CliUsageException($"--chunk-size must be a power of two from 4K to 64M, got {parse.GetValue(chunk)}");
        }

        return new RegistryOptions
        {
            MaxChainDepth = maxDepth,
            Effort = CommonOptions.ParseEffort(parse.GetValue(effort)!),
            ChunkSize = chunkSize,
            LockTimeout = wait is null ? TimeSpan.FromMinutes(2) : TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(wait))),
        };
    }

    private static string RequireInput(string path) =>
        File.Exists(path) || Directory.Exists(path) ? path : throw new FileNotFoundException($"{path}: no such file or directory", path);

    private static string RequireRegistry(string dir) =>
        Directory.Exists(dir) ? dir : throw new DirectoryNotFoundException($"{dir}: no such directory (create a registry with init)");

    /// <summary>Parses <c>0</c>, <c>90</c> (seconds), <c>30s</c>, <c>10m</c>, <c>1h</c>, <c>2d</c>.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        double unit = 1;
        if (t.Length > 0 && "smhd".Contains(t[^1], StringComparison.Ordinal))
        {
            unit = t[^1] switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 86400 };
            t = t[..^1];
        }

        if (!double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value * unit > TimeSpan.MaxValue.TotalSeconds)
        {
            throw new CliUsageException($"'{text}' is not a duration (examples: 0, 30s, 10m, 1h, 2d)");
        }

        return TimeSpan.FromSeconds(value * unit);
    }
}
