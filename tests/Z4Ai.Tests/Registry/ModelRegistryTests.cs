using NUnit.Framework;

namespace Z4Ai.Tests.Registry;

public class ModelRegistryTests
{
    private string _dir = null!;
    private string _store = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = RegistryTestData.TempDirectory();
        _store = Path.Combine(_dir, "registry");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void InitAddGet_FamilyOfThree_RestoresEachByteForByte()
    {
        Dictionary<string, Tensor> b = RegistryTestData.Base();
        Dictionary<string, Tensor> ft = RegistryTestData.FineTune(b, 0.05, 2);
        Dictionary<string, Tensor> ck = RegistryTestData.Checkpoint(ft, 3);
        string pb = RegistryTestData.Write(_dir, "base.safetensors", b);
        string pf = RegistryTestData.Write(_dir, "ft.safetensors", ft);
        string pc = RegistryTestData.Write(_dir, "ck.safetensors", ck);

        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), pb, "base");
        RegistryAddReport rf = registry.Add(pf, "ft");
        RegistryAddReport rc = registry.Add(pc, "ck");
        TestContext.Out.WriteLine($"ft: {rf.StoredBytes} stored of {rf.LogicalBytes}; copies {rf.Count(TensorStorage.Copy)}, dp {rf.Count(TensorStorage.DeltaFromParent)}, db {rf.Count(TensorStorage.DeltaFromBase)}, scratch {rf.Count(TensorStorage.Scratch)}");
        TestContext.Out.WriteLine($"ck: {rc.StoredBytes} stored of {rc.LogicalBytes}; copies {rc.Count(TensorStorage.Copy)}, dp {rc.Count(TensorStorage.DeltaFromParent)}, db {rc.Count(TensorStorage.DeltaFromBase)}, scratch {rc.Count(TensorStorage.Scratch)}");

        foreach ((string name, string path) in new[] { ("base", pb), ("ft", pf), ("ck", pc) })
        {
            string output = Path.Combine(_dir, name + ".out.safetensors");
            registry.Get(name, output);
            Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(path)), name);
        }

        Assert.That(registry.Verify().Passed, Is.True);
    }
}
