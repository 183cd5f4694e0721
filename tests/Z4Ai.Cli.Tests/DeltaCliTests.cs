using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

/// <summary><c>z4ai delta</c>, <c>undelta</c> and <c>info</c> on a delta, end to end on temp folders.</summary>
[NonParallelizable]
public class DeltaCliTests
{
    private string _dir = null!;
    private string _base = null!;
    private string _tuned = null!;
    private string _tuned2 = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-cli-delta-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        Dictionary<string, Tensor> model = DemoModelFamily.CreateBase(new DemoModelFamily.Config(Vocabulary: 256, Hidden: 64, Layers: 2, Mlp: 128));
        Dictionary<string, Tensor> tuned = DemoModelFamily.CreateFineTune(model, 0.05);
        Dictionary<string, Tensor> tuned2 = DemoModelFamily.CreateFineTune(tuned, 0.05, seed: 3);
        var options = new SaveOptions { Format = StorageFormat.SafeTensors };
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        _base = Path.Combine(_dir, "base.safetensors");
        _tuned = Path.Combine(_dir, "tuned.safetensors");
        _tuned2 = Path.Combine(_dir, "tuned2.safetensors");
        SafeTensorsCompat.SaveFile(model, _base, metadata, options);
        SafeTensorsCompat.SaveFile(tuned, _tuned, metadata, options);
        SafeTensorsCompat.SaveFile(tuned2, _tuned2, metadata, options);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task DeltaInfoUndelta_RestoresTheFineTuneByteForByte()
    {
        string delta = Path.Combine(_dir, "tuned.z4delta");
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", delta, "--stats");
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Output, Does.Contain("copy").And.Contain("delta").And.Contain("peak memory").And.Contain("base model:"));
        Assert.That(d.Error, Does.Contain("[delta]"), "progress goes to standard error");
        Assert.That(new FileInfo(delta).Length * 5, Is.LessThan(new FileInfo(_tuned).Length));

        CliResult info = await CliHarness.RunAsync("info", delta);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("model delta").And.Contain("base model:").And.Contain("copy (unchanged)").And.Contain("q_proj").And.Contain("delta: "));

        CliResult json = await CliHarness.RunAsync("info", delta, "--json");
        Assert.That(json.ExitCode, Is.EqualTo(ExitCodes.Ok), json.ToString());
        Assert.That(json.Output, Does.Contain("\"baseModelSha256\"").And.Contain("\"mode\": \"delta\"").And.Contain("\"subtract\""));

        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult u = await CliHarness.RunAsync("undelta", delta, "--base", _base, "-o", restored);
        Assert.That(u.ExitCode, Is.EqualTo(ExitCodes.Ok), u.ToString());
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(_tuned)));
    }

    [Test]
    public async Task Undelta_DefaultOutputAndChain_RestoreTheLastCheckpoint()
    {
        string d1 = Path.Combine(_dir, "tuned.safetensors.z4delta");
        string d2 = Path.Combine(_dir, "tuned2.safetensors.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned, "-b", _base, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));
        Assert.That(File.Exists(d1), Is.True, "the default output is TARGET.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned2, "-b", _tuned, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));

        string restored = Path.Combine(_dir, "chain.safetensors");
        CliResult chain = await CliHarness.RunAsync("undelta", d1, d2, "--base", _base, "-o", restored);
        Assert.That(chain.ExitCode, Is.EqualTo(ExitCodes.Ok), chain.ToString());
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(_tuned2)));

        // Without -o the output is the delta's name without .z4delta: it exists, so --force is needed.
        CliResult exists = await CliHarness.RunAsync("undelta", d1, "--base", _base);
        Assert.That(exists.ExitCode, Is.EqualTo(ExitCodes.Usage), exists.ToString());
        CliResult forced = await CliHarness.RunAsync("undelta", d1, "--base", _base, "--force", "-q");
        Assert.That(forced.ExitCode, Is.EqualTo(ExitCodes.Ok), forced.ToString());
        Assert.That(forced.Output, Is.Empty);
    }

    [Test]
    public async Task Undelta_WrongBaseOrBrokenChain_ExitsWith2AndWritesNothing()
    {
        string delta = Path.Combine(_dir, "tuned.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", delta, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));
        string restored = Path.Combine(_dir, "restored.safetensors");

        CliResult wrong = await CliHarness.RunAsync("undelta", delta, "--base", _tuned2, "-o", restored);
        Assert.That(wrong.ExitCode, Is.EqualTo(ExitCodes.BadInput), wrong.ToString());
        Assert.That(wrong.Error, Does.Contain("wrong base").And.Contain(DeltaCodec.InspectFile(delta).BaseModelSha256));

        CliResult broken = await CliHarness.RunAsync("undelta", delta, delta, "--base", _base, "-o", restored);
        Assert.That(broken.ExitCode, Is.EqualTo(ExitCodes.BadInput), broken.ToString());
        Assert.That(broken.Error, Does.Contain("broken chain: link 2"));

        Assert.That(File.Exists(restored), Is.False);
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty);
    }

    [Test]
    public async Task DeltaAndUndelta_BadArguments_MapToDocumentedExitCodes()
    {
        CliResult missing = await CliHarness.RunAsync("delta", _tuned, "--base", Path.Combine(_dir, "nope.safetensors"), "-o", Path.Combine(_dir, "x.z4delta"));
        Assert.That(missing.ExitCode, Is.EqualTo(ExitCodes.IoError), missing.ToString());

        CliResult noBase = await CliHarness.RunAsync("delta", _tuned);
        Assert.That(noBase.ExitCode, Is.EqualTo(ExitCodes.Usage), noBase.ToString());

        CliResult badChunk = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--chunk-size", "100");
        Assert.That(badChunk.ExitCode, Is.EqualTo(ExitCodes.Usage), badChunk.ToString());

        string garbage = Path.Combine(_dir, "garbage.z4delta");
        File.WriteAllBytes(garbage, "Z4AM\u0001\0\0\0 not really a delta"u8.ToArray());
        CliResult bad = await CliHarness.RunAsync("undelta", garbage, "--base", _base, "-o", Path.Combine(_dir, "g.safetensors"));
        Assert.That(bad.ExitCode, Is.EqualTo(ExitCodes.BadInput), bad.ToString());
        Assert.That(bad.Error, Does.Contain("garbage.z4delta"));
        CliResult badInfo = await CliHarness.RunAsync("info", garbage);
        Assert.That(badInfo.ExitCode, Is.EqualTo(ExitCodes.BadInput), badInfo.ToString());

        foreach (string command in new[] { "delta", "undelta" })
        {
            CliResult help = await CliHarness.RunAsync(command, "--help");
            Assert.That(help.ExitCode, Is.EqualTo(ExitCodes.Ok), help.ToString());
            Assert.That(help.Output, Does.Contain("--base").And.Contain("Exit codes"));
        }
    }

    [Test]
    public async Task DeltaAndUndelta_StandardStreams_RoundTripThroughStdinAndStdout()
    {
        string file = Path.Combine(_dir, "tuned.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", file, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));

        // The delta to standard output is the same file; the summary moves to standard error.
        CliResult toStdout = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", "-");
        Assert.That(toStdout.ExitCode, Is.EqualTo(ExitCodes.Ok), toStdout.ToString());
        Assert.That(toStdout.Stdout, Is.EqualTo(File.ReadAllBytes(file)));
        Assert.That(toStdout.Error, Does.Contain("base model:"));

        // The target from standard input (spooled), the delta to standard output by default.
        CliResult fromStdin = await CliHarness.RunAsync(File.ReadAllBytes(_tuned), "delta", "-", "--base", _base, "-q");
        Assert.That(fromStdin.ExitCode, Is.EqualTo(ExitCodes.Ok), fromStdin.ToString());
        Assert.That(fromStdin.Stdout, Is.EqualTo(File.ReadAllBytes(file)));

        // The delta from standard input, the rebuilt model to standard output.
        CliResult undelta = await CliHarness.RunAsync(File.ReadAllBytes(file), "undelta", "-", "--base", _base);
        Assert.That(undelta.ExitCode, Is.EqualTo(ExitCodes.Ok), undelta.ToString());
        Assert.That(undelta.Stdout, Is.EqualTo(File.ReadAllBytes(_tuned)));
        Assert.That(undelta.Error, Does.Contain("every tensor verified"));

        // The base from standard input.
        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult baseStdin = await CliHarness.RunAsync(File.ReadAllBytes(_base), "undelta", file, "--base", "-", "-o", restored, "-q");
        Assert.That(baseStdin.ExitCode, Is.EqualTo(ExitCodes.Ok), baseStdin.ToString());
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(_tuned)));

        CliResult twice = await CliHarness.RunAsync(File.ReadAllBytes(_tuned), "delta", "-", "--base", "-", "-o", Path.Combine(_dir, "y.z4delta"));
        Assert.That(twice.ExitCode, Is.EqualTo(ExitCodes.Usage), twice.ToString());
        Assert.That(twice.Error, Does.Contain("only one input can come from standard input"));
    }

    [Test]
    public async Task Undelta_WrongBaseToStdout_WritesNothingToStdout()
    {
        string delta = Path.Combine(_dir, "tuned.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", delta, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));
        CliResult wrong = await CliHarness.RunAsync("undelta", delta, "--base", _tuned2, "-o", "-");
        Assert.That(wrong.ExitCode, Is.EqualTo(ExitCodes.BadInput), wrong.ToString());
        Assert.That(wrong.Stdout, Is.Empty);
        Assert.That(wrong.Error, Does.Contain(DeltaCodec.InspectFile(delta).BaseModelSha256));
    }

    [Test]
    public async Task Undelta_TruncatedDelta_ExitsWith2NamingTheFileAndWritesNothing()
    {
        string delta = Path.Combine(_dir, "tuned.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", delta, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));
        byte[] bytes = File.ReadAllBytes(delta);
        string truncated = Path.Combine(_dir, "truncated.z4delta");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 100)]);
        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult result = await CliHarness.RunAsync("undelta", truncated, "--base", _base, "-o", restored);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.BadInput), result.ToString());
        Assert.That(result.Error, Does.Contain("truncated.z4delta"));
        Assert.That(File.Exists(restored), Is.False);
        Assert.That(Directory.GetFiles(_dir, "*.tmp*"), Is.Empty);
    }

    [Test]
    public async Task Undelta_BaseTensorOfAnotherShape_ExitsWith2NamingTheTensorAndDigestAndWritesNothing()
    {
        string delta = Path.Combine(_dir, "tuned.z4delta");
        Assert.That((await CliHarness.RunAsync("delta", _tuned, "--base", _base, "-o", delta, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));

        // The same base with one tensor reshaped (same bytes, another shape).
        var model = new Dictionary<string, Tensor>(SafeTensorsCompat.LoadFile(_base));
        string name = model.Keys.First(k => model[k].Shape.Count == 2);
        Tensor original = model[name];
        model[name] = new Tensor(original.DType, [original.Shape[1], original.Shape[0]], original.Data.ToArray());
        string reshaped = Path.Combine(_dir, "reshaped.safetensors");
        SafeTensorsCompat.SaveFile(model, reshaped, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });

        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult result = await CliHarness.RunAsync("undelta", delta, "--base", reshaped, "-o", restored);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCodes.BadInput), result.ToString());
        ModelDeltaInfo info = DeltaCodec.InspectFile(delta);
        string digest = info.Tensors.First(t => t.BaseTensor == name).BaseSha256!;
        Assert.That(result.Error, Does.Contain(info.BaseModelSha256).And.Contain($"'{name}'").And.Contain(digest));
        Assert.That(File.Exists(restored), Is.False);
    }
}
