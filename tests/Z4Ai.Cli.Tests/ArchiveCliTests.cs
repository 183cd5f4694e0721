using System.Text;
using NUnit.Framework;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// The archival tier from the command line: <c>archive</c>/<c>unarchive</c>, <c>compress --archive</c> for any
/// file with <c>decompress</c> and <c>info</c> recognising the archive, and <c>--effort archive</c> for raw buffers.
/// </summary>
[NonParallelizable]
public class ArchiveCliTests
{
    private string _dir = null!;
    private string _text = null!;
    private byte[] _bytes = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-archive-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var sb = new StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            sb.Append("The model card describes layer ").Append(i % 17).Append(" of the encoder, its weights and the tokenizer.\n");
        }

        _bytes = Encoding.UTF8.GetBytes(sb.ToString());
        _text = Path.Combine(_dir, "README.md");
        File.WriteAllBytes(_text, _bytes);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task CompressArchive_TextFile_InfoDescribesAndDecompressRestores()
    {
        CliResult c = await CliHarness.RunAsync("compress", _text, "--archive");
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        string archive = _text + ".z4ar";
        Assert.That(new FileInfo(archive).Length, Is.LessThan(_bytes.Length / 4));

        CliResult info = await CliHarness.RunAsync("info", archive);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("z4ai archive").And.Contain("model:").And.Contain($"length: {_bytes.Length} bytes"));

        File.Delete(_text);
        CliResult d = await CliHarness.RunAsync("decompress", archive);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Output, Does.Contain("SHA-256 verified"));
        Assert.That(File.ReadAllBytes(_text), Is.EqualTo(_bytes));
    }

    [Test]
    public async Task Decompress_DamagedArchive_FailsAndWritesNothing()
    {
        string archive = Path.Combine(_dir, "card.z4ar");
        CliResult c = await CliHarness.RunAsync("compress", _text, "--archive", "-o", archive);
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        byte[] bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(archive, bytes);

        string restored = Path.Combine(_dir, "restored.md");
        CliResult d = await CliHarness.RunAsync("decompress", archive, "-o", restored);
        Assert.That(d.ExitCode, Is.AnyOf(ExitCodes.BadInput, ExitCodes.IntegrityFailure), d.ToString());
        Assert.That(File.Exists(restored), Is.False);
    }

    [Test]
    public async Task CompressArchive_WithDType_IsAUsageError()
    {
        CliResult c = await CliHarness.RunAsync("compress", _text, "--archive", "--dtype", "u8");
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Usage), c.ToString());
    }

    [Test]
    public async Task ArchiveUnarchive_TextFile_RoundTrips()
    {
        string archive = Path.Combine(_dir, "a.z4ar");
        CliResult a = await CliHarness.RunAsync("archive", _text, "-o", archive, "--preset", "prose");
        Assert.That(a.ExitCode, Is.EqualTo(ExitCodes.Ok), a.ToString());
        string restored = Path.Combine(_dir, "back.md");
        CliResult u = await CliHarness.RunAsync("unarchive", archive, "-o", restored);
        Assert.That(u.ExitCode, Is.EqualTo(ExitCodes.Ok), u.ToString());
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(_bytes));
    }

    [Test]
    public async Task RegistryAddWith_TextFile_GetRestoresItNextToTheModel()
    {
        string model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(model);
        string weights = Path.Combine(model, "w.safetensors");
        byte[] raw = new byte[64 * 64 * 2];
        new Random(3).NextBytes(raw);
        SafeTensorsCompat.SaveFile(
            new Dictionary<string, Tensor> { ["w"] = new Tensor(DType.BF16, [64, 64], raw) }, weights, options: new SaveOptions { Format = StorageFormat.SafeTensors });
        string registry = Path.Combine(_dir, "reg");
        CliResult init = await CliHarness.RunAsync("registry", "init", registry, weights, "--name", "base");
        Assert.That(init.ExitCode, Is.EqualTo(ExitCodes.Ok), init.ToString());
        CliResult add = await CliHarness.RunAsync("registry", "add", registry, weights, "--name", "v1", "--with", _text);
        Assert.That(add.ExitCode, Is.EqualTo(ExitCodes.Ok), add.ToString());

        string outDir = Path.Combine(_dir, "out");
        Directory.CreateDirectory(outDir);
        CliResult get = await CliHarness.RunAsync("registry", "get", registry, "v1", "--out", Path.Combine(outDir, "v1.safetensors"));
        Assert.That(get.ExitCode, Is.EqualTo(ExitCodes.Ok), get.ToString());
        Assert.That(File.ReadAllBytes(Path.Combine(outDir, "README.md")), Is.EqualTo(_bytes));
    }

    [Test]
    public async Task CompressRawBuffer_EffortArchive_RestoresTheBytes()
    {
        string frame = Path.Combine(_dir, "text.z4f");
        CliResult c = await CliHarness.RunAsync("compress", _text, "--dtype", "u8", "--effort", "archive", "-o", frame);
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        Assert.That(c.Output, Does.Contain("effort archive"));

        CliResult info = await CliHarness.RunAsync("info", frame);
        Assert.That(info.Output, Does.Contain("archive-cm"), info.ToString());

        string restored = Path.Combine(_dir, "text.bin");
        CliResult d = await CliHarness.RunAsync("decompress", frame, "-o", restored);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(_bytes));
    }
}
