using NUnit.Framework;

namespace Z4Ai.Tests.Runtime;

/// <summary>A registry version streamed through <see cref="TensorSource"/>: verified against the manifest's digests.</summary>
public class RegistryTensorSourceTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-regsrc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private (ModelRegistry Registry, Dictionary<string, Tensor> Tuned) Family()
    {
        var random = new Random(5);
        var baseModel = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < 3; i++)
        {
            float[] values = Enumerable.Range(0, 64 * 32).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            baseModel[$"layer.{i}.weight"] = Tensor.FromArray<float>(DType.F32, [64, 32], values);
        }

        var tuned = new Dictionary<string, Tensor>(baseModel, StringComparer.Ordinal);
        float[] changed = baseModel["layer.1.weight"].ToArray<float>();
        changed[7] += 0.25f;
        tuned["layer.1.weight"] = Tensor.FromArray<float>(DType.F32, [64, 32], changed);

        string basePath = Path.Combine(_dir, "base.safetensors");
        string tunedPath = Path.Combine(_dir, "tuned.safetensors");
        var plain = new SaveOptions { Format = StorageFormat.SafeTensors };
        SafeTensorsCompat.SaveFile(baseModel, basePath, options: plain);
        SafeTensorsCompat.SaveFile(tuned, tunedPath, options: plain);
        var registry = ModelRegistry.Init(new LocalBlobStore(Path.Combine(_dir, "zoo")), basePath, "base");
        registry.Add(tunedPath, "tuned", "base");
        return (registry, tuned);
    }

    [Test]
    public void Open_RegistryVersion_HandsOutTensorsVerifiedAgainstTheManifest()
    {
        (ModelRegistry registry, Dictionary<string, Tensor> tuned) = Family();
        using ITensorSource source = TensorSource.Open(registry, "tuned", new TensorSourceOptions { CacheBudgetBytes = 1 << 20 });
        Assert.That(source.Tensors.Select(t => t.Name), Is.EquivalentTo(tuned.Keys));
        foreach (string name in tuned.Keys)
        {
            using TensorLease lease = source.Acquire(name);
            Assert.That(lease.Verification, Is.EqualTo(TensorVerification.ExpectedDigest));
            Assert.That(lease.Bytes.ToArray(), Is.EqualTo(tuned[name].Data.ToArray()));
        }
    }

    [Test]
    public void Open_ExpectedDigestThatDisagreesWithTheManifest_IsRefused()
    {
        (ModelRegistry registry, _) = Family();
        var options = new TensorSourceOptions
        {
            ExpectedDigests = new Dictionary<string, string> { ["layer.0.weight"] = new string('0', 64) },
        };
        Assert.Throws<Z4AiIntegrityException>(() => TensorSource.Open(registry, "tuned", options));
        Assert.That(() => TensorSource.Open(registry, "no-such-version"), Throws.InstanceOf<Z4AiException>());
    }
}
