using System.Buffers.Binary;
using NUnit.Framework;

namespace Z4Ai.Cli.Tests;

/// <summary>The raw-buffer mode: <c>compress --dtype</c>, <c>decompress</c> and <c>info</c> of a .z4f frame, and
/// <c>info --streams</c> for a container tensor.</summary>
[NonParallelizable]
public class CodecCliTests
{
    private string _dir = null!;
    private string _raw = null!;
    private byte[] _bytes = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-codec-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var rng = new Random(1);
        _bytes = new byte[64 * 128 * 2];
        for (int i = 0; i < _bytes.Length / 2; i++)
        {
            float w = (float)(0.02 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
            BinaryPrimitives.WriteUInt16LittleEndian(_bytes.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(w) >> 16));
        }

        _raw = Path.Combine(_dir, "weights.bin");
        File.WriteAllBytes(_raw, _bytes);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task CompressInfoDecompress_RawBuffer_RestoresTheBytes()
    {
        string frame = Path.Combine(_dir, "out.z4f");
        CliResult c = await CliHarness.RunAsync("compress", _raw, "--dtype", "bf16", "--shape", "64,128", "-o", frame, "--stats");
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        Assert.That(c.Output, Does.Contain("BF16 buffer [64,128]").And.Contain("peak memory"));
        Assert.That(new FileInfo(frame).Length, Is.LessThan(_bytes.Length));

        CliResult info = await CliHarness.RunAsync("info", frame);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("recipe").And.Contain("data/exponent").And.Contain("bits/element").And.Contain("field entropy"));

        CliResult json = await CliHarness.RunAsync("info", frame, "--json");
        Assert.That(json.Output, Does.Contain("\"streams\"").And.Contain("\"exponentEntropyBits\"").And.Contain("\"shape\""));

        string restored = Path.Combine(_dir, "restored.bin");
        CliResult d = await CliHarness.RunAsync("decompress", frame, "-o", restored);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(_bytes));
    }

    [Test]
    public async Task Compress_DefaultOutputName_AppendsTheExtension()
    {
        CliResult c = await CliHarness.RunAsync("compress", _raw, "--dtype", "BF16", "--effort", "fast");
        Assert.That(c.ExitCode, Is.EqualTo(ExitCodes.Ok), c.ToString());
        Assert.That(File.Exists(_raw + ".z4f"), Is.True);

        File.Delete(_raw);
        CliResult d = await CliHarness.RunAsync("decompress", _raw + ".z4f");
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(File.ReadAllBytes(_raw), Is.EqualTo(_bytes));
    }

    [Test]
    public async Task Decompress_CorruptFrame_FailsAndWritesNothing()
    {
        string frame = Path.Combine(_dir, "out.z4f");
        Assert.That((await CliHarness.RunAsync("compress", _raw, "--dtype", "bf16", "-o", frame)).ExitCode, Is.EqualTo(ExitCodes.Ok));
        byte[] bytes = File.ReadAllBytes(frame);
        bytes[^3] ^= 1;
        File.WriteAllBytes(frame, bytes);
        string restored = Path.Combine(_dir, "restored.bin");
        CliResult d = await CliHarness.RunAsync("decompress", frame, "-o", restored);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.IntegrityFailure), d.ToString());
        Assert.That(File.Exists(restored), Is.False);
        Assert.That(Directory.GetFiles(_dir, "*.tmp-*"), Is.Empty);
    }

    [Test]
    public async Task Compress_BadDTypeOrShape_IsAUsageError()
    {
        Assert.That((await CliHarness.RunAsync("compress", _raw, "--dtype", "float7")).ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That((await CliHarness.RunAsync("compress", _raw, "--dtype", "bf16", "--shape", "3,x")).ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That((await CliHarness.RunAsync("compress", _raw, "--dtype", "bf16", "--shape", "3,3")).ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That((await CliHarness.RunAsync("compress", _raw, "--shape", "3,3")).ExitCode, Is.EqualTo(ExitCodes.Usage));
    }

    [Test]
    public async Task InfoStreams_ContainerTensor_ShowsItsRecipe()
    {
        var tensors = new Dictionary<string, Tensor> { ["w"] = new Tensor(DType.BF16, [64, 128], _bytes) };
        string model = Path.Combine(_dir, "m.safetensors");
        SafeTensorsCompat.SaveFile(tensors, model, null, new SaveOptions { Format = StorageFormat.SafeTensors });
        string container = Path.Combine(_dir, "m.z4ai");
        Assert.That((await CliHarness.RunAsync("compress", model, "-o", container)).ExitCode, Is.EqualTo(ExitCodes.Ok));

        CliResult info = await CliHarness.RunAsync("info", container, "--streams", "w");
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("tensor w").And.Contain("recipe").And.Contain("data/exponent"));

        CliResult missing = await CliHarness.RunAsync("info", container, "--streams", "nope");
        Assert.That(missing.ExitCode, Is.Not.EqualTo(ExitCodes.Ok));
    }
}
