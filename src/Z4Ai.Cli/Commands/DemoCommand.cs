using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// <c>z4ai demo</c>: the main job on a built-in example. Makes a small model family on the fly, compresses it,
/// verifies it, fetches one tensor, restores the original byte for byte and prints a short table.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var directory = new Option<string?>("--dir") { Description = "where to write the demo files (default: a new temporary folder, removed afterwards)" };
        var keep = new Option<bool>("--keep") { Description = "keep the files written" };
        var layers = new Option<int>("--layers") { Description = "decoder layers of the generated model", DefaultValueFactory = _ => 4 };
        var command = new Command("demo", "Run the main job on a built-in example: generate a small model family, compress, verify, fetch one tensor, restore byte-exact, and print a table.\n" + ExitCodes.HelpText)
        {
            directory, keep, layers,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string? dir = parse.GetValue(directory);
            bool temporary = dir is null;
            dir ??= Path.Combine(Path.GetTempPath(), $"z4ai-demo-{Guid.NewGuid():N}");
            Directory.CreateDirectory(dir);
            try
            {
                return Run(context, dir, Math.Clamp(parse.GetValue(layers), 1, 64));
            }
            finally
            {
                if (temporary && !parse.GetValue(keep))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        }));
        return command;
    }

    private static int Run(CliContext context, string dir, int layers)
    {
        TextWriter o = context.Output;
        var rows = new List<(string Step, string Result)>();
        var config = new DemoModelFamily.Config(Layers: layers);
        Dictionary<string, Tensor> baseModel = DemoModelFamily.CreateBase(config);
        string plain = Path.Combine(dir, "base.safetensors");
        SafeTensorsCompat.SaveFile(baseModel, plain, new Dictionary<string, string> { ["format"] = "pt", ["source"] = "z4ai demo" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        long plainBytes = new FileInfo(plain).Length;
        rows.Add(("generate base model", $"{baseModel.Count} tensors, {Units.Bytes(plainBytes)} as plain safetensors"));

        string container = Path.Combine(dir, "base.z4ai");
        CompressionReport report = Z4AiContainer.Compress(plain, container);
        rows.Add(("compress", $"{Units.Bytes(report.OutputBytes)} ({Units.Ratio(report.Ratio)}), {Units.Rate(report.InputBytes, report.Elapsed)}"));
        int deduplicated = report.Tensors.Count(t => t.DuplicateOf is not null);
        rows.Add(("  codecs", string.Join(", ", report.Tensors.GroupBy(t => t.DuplicateOf is null ? t.Codec : "dedup").Select(g => $"{g.Key} x{g.Count()}"))));

        VerifyReport verify = Z4AiContainer.Verify(container);
        rows.Add(("verify", verify.Passed ? $"integrity: PASS ({verify.TensorsChecked} tensors)" : $"integrity: FAIL ({string.Join(", ", verify.FailedTensors)})"));

        const string probe = "model.layers.0.self_attn.q_proj.weight";
        using (SafeTensorsReader reader = SafeTensorsCompat.Open(container))
        {
            Tensor fetched = reader.GetTensor(probe);
            bool same = fetched.Data.Span.SequenceEqual(baseModel[probe].Data.Span);
            double share = 100.0 * reader.BytesRead / new FileInfo(container).Length;
            rows.Add(("get one tensor", $"{probe} {fetched}: read {Units.Bytes(reader.BytesRead)} ({share:0.0}% of the file), {(same ? "identical" : "DIFFERENT")}"));
            if (!same)
            {
                return Report(o, rows, ExitCodes.IntegrityFailure);
            }
        }

        string restored = Path.Combine(dir, "restored.safetensors");
        var clock = Stopwatch.StartNew();
        Z4AiContainer.Decompress(container, restored);
        clock.Stop();
        bool exact = Sha256(plain).SequenceEqual(Sha256(restored));
        rows.Add(("restore", $"{(exact ? "byte-exact" : "DIFFERENT")}, SHA-256 {Convert.ToHexStringLower(Sha256(restored))[..16]}..., {Units.Rate(plainBytes, clock.Elapsed)}"));
        if (deduplicated > 0)
        {
            rows.Add(("  dedup", $"{deduplicated} tensor(s) stored once (tied embedding)"));
        }

        // A fine-tune of the base, stored as a byte-exact delta from it.
        Dictionary<string, Tensor> fineTune = DemoModelFamily.CreateFineTune(baseModel);
        string tuned = Path.Combine(dir, "finetune.safetensors");
        SafeTensorsCompat.SaveFile(fineTune, tuned, new Dictionary<string, string> { ["format"] = "pt", ["source"] = "z4ai demo fine-tune" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        string delta = Path.Combine(dir, "finetune" + DeltaCodec.FileExtension);
        ModelDeltaReport deltaReport = DeltaCodec.CompressFile(tuned, plain, delta);
        rows.Add(("fine-tune as delta", $"{Units.Bytes(deltaReport.OutputBytes)} ({Units.Ratio(deltaReport.Ratio)} of {Units.Bytes(deltaReport.TargetBytes)}): " +
            $"{deltaReport.CountTensors(ModelDeltaTensorMode.Copy)} copied, {deltaReport.CountTensors(ModelDeltaTensorMode.Delta)} delta, {deltaReport.CountTensors(ModelDeltaTensorMode.Scratch)} on their own"));
        string tunedRestored = Path.Combine(dir, "finetune.restored.safetensors");
        DeltaCodec.DecompressFile(delta, plain, tunedRestored);
        bool deltaExact = Sha256(tuned).SequenceEqual(Sha256(tunedRestored));
        rows.Add(("restore fine-tune", deltaExact ? "byte-exact from base + delta" : "DIFFERENT"));

        bool registryOk = RunRegistry(dir, plain, baseModel, rows);

        return Report(o, rows, exact && deltaExact && registryOk && verify.Passed ? ExitCodes.Ok : ExitCodes.IntegrityFailure);
    }

    /// <summary>A model family in a registry: the base, a fine-tune and three consecutive checkpoints.</summary>
    private static bool RunRegistry(string dir, string basePath, Dictionary<string, Tensor> baseModel, List<(string Step, string Result)> rows)
    {
        var registry = ModelRegistry.Init(new LocalBlobStore(Path.Combine(dir, "zoo")), basePath, "base");
        long inFull = new FileInfo(basePath).Length;
        Dictionary<string, Tensor> previous = DemoModelFamily.CreateFineTune(baseModel, 0.05, 2);
        string parent = "base";
        string lastPath = basePath;
        string[] names = ["finetune", "ckpt-1", "ckpt-2", "ckpt-3"];
        for (int i = 0; i < names.Length; i++)
        {
            if (i > 0)
            {
                previous = DemoModelFamily.CreateFineTune(previous, 0.3, (ulong)(2 + i));
            }

            lastPath = Path.Combine(dir, names[i] + ".safetensors");
            SafeTensorsCompat.SaveFile(previous, lastPath, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
            registry.Add(lastPath, names[i], parent);
            inFull += new FileInfo(lastPath).Length;
            parent = names[i];
        }

        long stored = registry.GetStoredBytes() + registry.List().Sum(v => v.ManifestBytes);
        rows.Add(("registry family", $"{registry.List().Count} versions: {Units.Bytes(inFull)} in full -> {Units.Bytes(stored)} stored ({Units.Ratio((double)inFull / stored)})"));
        string restored = Path.Combine(dir, "ckpt-3.restored.safetensors");
        registry.Get("ckpt-3", restored);
        bool exact = Sha256(lastPath).SequenceEqual(Sha256(restored));
        bool verified = registry.Verify().Passed;
        rows.Add(("registry get ckpt-3", $"{(exact ? "byte-exact" : "DIFFERENT")}; verify: {(verified ? "PASS" : "FAIL")}"));
        return exact && verified;
    }

    private static int Report(TextWriter o, List<(string Step, string Result)> rows, int code)
    {
        int width = rows.Max(r => r.Step.Length);
        o.WriteLine("z4ai demo: a generated model family, end to end");
        foreach ((string step, string result) in rows)
        {
            o.WriteLine($"  {step.PadRight(width)}  {result}");
        }

        return code;
    }

    private static byte[] Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }
}
