using NUnit.Framework;
using StreamingInference;
using Z4Ai.Format;

namespace Z4Ai.Tests.Runtime;

/// <summary>The example transformer: loaded and streamed runs must agree bit for bit, and corruption must stop a run.</summary>
public class StreamingInferenceTests
{
    private static readonly ModelConfig Tiny = new(Layers: 3, Dim: 64, Heads: 4, Ffn: 160, Vocab: 300);

    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"z4ai-inference-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string Generate(bool container)
    {
        string path = Path.Combine(_dir, container ? "tiny.z4ai" : "tiny.safetensors");
        SyntheticModel.Generate(Tiny, path, container, seed: 5, CompressionEffort.Fast, TextWriter.Null);
        return path;
    }

    [Test]
    public void Forward_TinyModel_StreamedLogitsDigestEqualsLoaded([Values] bool container)
    {
        string path = Generate(container);
        RunResult loaded = Runner.Run(path, RunMode.Loaded);
        RunResult streamed = Runner.Run(path, RunMode.Streamed, budgetLayers: 1);
        RunResult unprefetched = Runner.Run(path, RunMode.Streamed, budgetLayers: 1, prefetch: false);

        Assert.That(loaded.Config, Is.EqualTo(Tiny));
        Assert.That(streamed.LogitsSha256, Is.EqualTo(loaded.LogitsSha256));
        Assert.That(unprefetched.LogitsSha256, Is.EqualTo(loaded.LogitsSha256));
        Assert.That(streamed.NextToken, Is.EqualTo(loaded.NextToken));
        TensorSourceStatistics stats = streamed.Statistics!;
        Assert.That(stats.PeakCachedBytes, Is.LessThanOrEqualTo(streamed.BudgetBytes));
        Assert.That(streamed.BudgetBytes, Is.LessThan(Tiny.TotalBytes / 3));
        Assert.That(stats.BytesLoaded, Is.EqualTo(Tiny.TotalBytes), "each tensor is decoded once per pass");
        Assert.That(unprefetched.Statistics!.Misses, Is.EqualTo(unprefetched.Statistics.Requests - unprefetched.Statistics.Hits));
    }

    [Test]
    public void Forward_DifferentPrompts_GiveDifferentDigests()
    {
        string path = Generate(container: true);
        Assert.That(Runner.Run(path, RunMode.Streamed, tokenCount: 3).LogitsSha256, Is.Not.EqualTo(Runner.Run(path, RunMode.Streamed, tokenCount: 4).LogitsSha256));
    }

    [Test]
    public void Forward_ContainerWithAFlippedByteMidModel_StopsNamingTheTensor()
    {
        string path = Generate(container: true);
        string victim = ModelConfig.LayerTensor(1, "mlp.up_proj.weight");
        long offset;
        using (ContainerReader reader = ContainerReader.Open(path))
        {
            reader.TryGetTensor(victim, out ContainerEntry? entry);
            offset = entry!.Chunks[0].Offset + (entry.Chunks[0].StoredLength / 2);
        }

        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x04;
        File.WriteAllBytes(path, bytes);

        Assert.That(
            () => Runner.Run(path, RunMode.Streamed, budgetLayers: 1),
            Throws.InstanceOf<Z4AiException>().With.Message.Contains(victim));
    }

    [Test]
    public void Open_BudgetBelowTheLargestTensor_IsRefusedWithTheSizeNeeded()
    {
        string path = Generate(container: true);
        long embed = (long)Tiny.Vocab * Tiny.Dim * 2;
        Assert.That(
            () => Runner.Run(path, RunMode.Streamed, budgetBytes: embed - 1),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains($"at least {embed} bytes"));
    }
}
