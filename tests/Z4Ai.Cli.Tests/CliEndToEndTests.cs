using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

[NonParallelizable]
public class CliEndToEndTests
{
    private string _dir = null!;
    private string _plain = null!;
    private Dictionary<string, Tensor> _model = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _model = DemoModelFamily.CreateBase(new DemoModelFamily.Config(Vocabulary: 512, Hidden: 64, Layers: 2, Mlp: 128));
        _plain = Path.Combine(_dir, "model.safetensors");
        SafeTensorsCompat.SaveFile(_model, _plain, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Demo_RunsTheMainJob_EndToEnd()
    {
        CliResult r = await CliHarness.RunAsync("demo", "--layers", "2");
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Ok), r.ToString());
        Assert.That(r.Output, Does.Contain("integrity: PASS"));
        Assert.That(r.Output, Does.Contain("byte-exact"));
        Assert.That(r.Output, Does.Contain("identical"));
    }

    [Test]
    public async Task CompressInfoVerifyGetDecompress_RestoresTheFileByteForByte()
    {
        string container = Path.Combine(_dir, "model.z4ai");
        CliResult c = await CliHarness.RunAsync("compress", _plain, "-o", container, "--stats");
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        Assert.That(c.Output, Does.Contain("peak memory"));
        Assert.That(new FileInfo(container).Length, Is.LessThan(new FileInfo(_plain).Length));

        CliResult info = await CliHarness.RunAsync("info", container);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("model.layers.1.mlp.up_proj.weight").And.Contain("BF16").And.Contain("dedup of"));

        CliResult json = await CliHarness.RunAsync("info", container, "--json");
        Assert.That(json.Output, Does.Contain("\"sha256\"").And.Contain("\"formatVersion\""));

        CliResult verify = await CliHarness.RunAsync("verify", container);
        Assert.That(verify.ExitCode, Is.EqualTo(ExitCodes.Ok), verify.ToString());
        Assert.That(verify.Output, Does.Contain("integrity: PASS"));

        string raw = Path.Combine(_dir, "q.bin");
        CliResult get = await CliHarness.RunAsync("get-tensor", container, "model.layers.0.self_attn.q_proj.weight", "-o", raw);
        Assert.That(get.ExitCode, Is.EqualTo(ExitCodes.Ok), get.ToString());
        Assert.That(File.ReadAllBytes(raw), Is.EqualTo(_model["model.layers.0.self_attn.q_proj.weight"].Data.ToArray()));

        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult d = await CliHarness.RunAsync("decompress", container, "-o", restored);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(Sha(restored), Is.EqualTo(Sha(_plain)));
    }

    [Test]
    public async Task CompressAndDecompress_ThroughStandardStreams()
    {
        CliResult c = await CliHarness.RunAsync(File.ReadAllBytes(_plain), "compress", "-", "-o", "-");
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        Assert.That(c.Stdout.AsSpan(0, 4).ToArray(), Is.EqualTo("Z4AI"u8.ToArray()));

        CliResult d = await CliHarness.RunAsync(c.Stdout, "decompress", "-", "-o", "-");
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Stdout, Is.EqualTo(File.ReadAllBytes(_plain)));
    }

    [Test]
    public async Task Verify_CorruptedPayload_FailsWithExitCode3AndNamesTheTensor()
    {
        string container = Path.Combine(_dir, "model.z4ai");
        Assert.That((await CliHarness.RunAsync("compress", _plain, "-o", container, "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));
        byte[] bytes = File.ReadAllBytes(container);
        bytes[bytes.Length / 3] ^= 0x10; // inside the data region: the index and footer sit at the end
        File.WriteAllBytes(container, bytes);

        CliResult verify = await CliHarness.RunAsync("verify", container);
        Assert.That(verify.ExitCode, Is.EqualTo(ExitCodes.IntegrityFailure), verify.ToString());
        Assert.That(verify.Output, Does.Contain("integrity: FAIL").And.Contain("corrupt: "));

        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult d = await CliHarness.RunAsync("decompress", container, "-o", restored);
        Assert.That(d.ExitCode, Is.AnyOf(ExitCodes.IntegrityFailure, ExitCodes.BadInput), d.ToString());
        Assert.That(File.Exists(restored), Is.False, "a failed restore must leave no output");
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty, "no temporary file may be left behind");
    }

    [Test]
    public async Task Errors_MapToDocumentedExitCodes()
    {
        CliResult missing = await CliHarness.RunAsync("verify", Path.Combine(_dir, "nope.z4ai"));
        Assert.That(missing.ExitCode, Is.EqualTo(ExitCodes.IoError), missing.ToString());

        string garbage = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B]);
        CliResult bad = await CliHarness.RunAsync("compress", garbage, "-o", Path.Combine(_dir, "g.z4ai"));
        Assert.That(bad.ExitCode, Is.EqualTo(ExitCodes.BadInput), bad.ToString());
        Assert.That(bad.Error, Does.Contain("garbage.safetensors"));
        Assert.That(File.Exists(Path.Combine(_dir, "g.z4ai")), Is.False);

        CliResult usage = await CliHarness.RunAsync("compress", _plain, "--effort", "extreme");
        Assert.That(usage.ExitCode, Is.EqualTo(ExitCodes.Usage), usage.ToString());

        CliResult notFound = await CliHarness.RunAsync("get-tensor", _plain, "no.such.tensor", "-o", Path.Combine(_dir, "x.bin"));
        Assert.That(notFound.ExitCode, Is.EqualTo(ExitCodes.BadInput), notFound.ToString());
        Assert.That(notFound.Error, Does.Contain("no.such.tensor"));
    }

    [Test]
    public async Task Compress_ExistingOutput_RequiresForce()
    {
        string container = Path.Combine(_dir, "model.z4ai");
        File.WriteAllText(container, "keep me");
        CliResult r = await CliHarness.RunAsync("compress", _plain, "-o", container);
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Usage), r.ToString());
        Assert.That(File.ReadAllText(container), Is.EqualTo("keep me"));
        Assert.That((await CliHarness.RunAsync("compress", _plain, "-o", container, "--force", "-q")).ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [TestCase("compress")]
    [TestCase("decompress")]
    [TestCase("info")]
    [TestCase("verify")]
    [TestCase("get-tensor")]
    [TestCase("demo")]
    public async Task Help_IsAvailableOnEveryCommand(string command)
    {
        CliResult r = await CliHarness.RunAsync(command, "--help");
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Ok), r.ToString());
        Assert.That(r.Output, Does.Contain("Usage:").And.Contain("Exit codes"));
    }

    private static byte[] Sha(string path) => SHA256.HashData(File.ReadAllBytes(path));
}
