using System.Buffers.Binary;
using NUnit.Framework;
using Z4Ai.Integrity;
using Z4Ai.Registry;

namespace Z4Ai.Tests.Registry;

[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public class RegistryStorageChoiceTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = RegistryTestData.TempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase(1 << 16)]
    [TestCase(6 << 20)]
    public void DeltaPreview_NearReference_EstimatesSmallerThanFarReference(int length)
    {
        byte[] reference = ObjectStoreTests.Bf16Like(length, 1);
        byte[] near = (byte[])reference.Clone();
        byte[] far = ObjectStoreTests.Bf16Like(length, 2);
        for (int i = 0; i < near.Length; i += 101)
        {
            near[i] ^= 1;
        }

        long nearBits = DeltaPreview.EstimateBits(near, reference, DType.BF16);
        long farBits = DeltaPreview.EstimateBits(far, reference, DType.BF16);
        Assert.That(nearBits, Is.LessThan(farBits / 4));
        Assert.That(DeltaPreview.EstimateBits(near, reference, DType.BF16), Is.EqualTo(nearBits), "deterministic");
        Assert.That(DeltaPreview.EstimateBits(reference, reference, DType.BF16), Is.Zero);
        Assert.That(DeltaPreview.EstimateBits(near, reference.AsSpan(0, length / 2), DType.BF16), Is.GreaterThan(nearBits), "bytes past the reference cost 8 bits each");
        Assert.That(DeltaPreview.EstimateBits(near, [], DType.U8), Is.EqualTo((long)length * 8 << 16));
    }

    [TestCase(CompressionEffort.Default)]
    [TestCase(CompressionEffort.Max)]
    public void Add_VersionCloserToTheBaseThanToItsParent_IsStoredAgainstTheBase(CompressionEffort effort)
    {
        Dictionary<string, Tensor> b = RegistryTestData.Base();
        Dictionary<string, Tensor> far = b;
        for (int i = 0; i < 4; i++)
        {
            far = RegistryTestData.Checkpoint(far, 50 + i);
        }

        Dictionary<string, Tensor> near = RegistryTestData.FineTune(b, 0.01, 9);
        var options = new RegistryOptions { Effort = effort };
        ModelRegistry registry = ModelRegistry.Init(new MemoryBlobStore(), RegistryTestData.Write(_dir, "b.safetensors", b), "base", options);
        registry.Add(RegistryTestData.Write(_dir, "far.safetensors", far), "far");
        RegistryAddReport report = registry.Add(RegistryTestData.Write(_dir, "near.safetensors", near), "near", parent: "far");
        RegistryTensorReport q = report.Tensors.Single(t => t.Name == "layers.0.attn.q.weight");
        RegistryTensorReport embed = report.Tensors.Single(t => t.Name == "embed.weight");
        Assert.That(q.Storage, Is.EqualTo(TensorStorage.DeltaFromBase));
        Assert.That(q.Depth, Is.EqualTo(1));
        Assert.That(embed.Storage, Is.EqualTo(TensorStorage.Copy), "unchanged from the base: already stored");
    }

    [Test]
    public void ObjectOfANewerFormat_IsNeitherReplacedNorCollected()
    {
        var store = new MemoryBlobStore();
        Dictionary<string, Tensor> b = RegistryTestData.Base();
        string basePath = RegistryTestData.Write(_dir, "b.safetensors", b);
        ModelRegistry registry = ModelRegistry.Init(store, basePath, "base");
        registry.Add(RegistryTestData.Write(_dir, "v1.safetensors", RegistryTestData.Checkpoint(b, 3)), "v1");
        string key = store.Keys.First(k => k.StartsWith("objects/", StringComparison.Ordinal) && IsDelta(store, k));
        byte[] newer = WithTailVersion(store[key], 2);
        store[key] = newer;

        var read = Assert.Throws<Z4AiFormatException>(() => new ObjectStore(new StoreAccess(store)).ReadTable(IdOf(key), "t"));
        Assert.That(read!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        var gc = Assert.Throws<Z4AiFormatException>(() => registry.Gc(TimeSpan.Zero));
        Assert.That(gc!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        Assert.That(gc.Message, Does.Contain("newer format"));
        Assert.That(store[key], Is.EqualTo(newer));

        Assert.Catch<Z4AiFormatException>(() => registry.Add(RegistryTestData.Write(_dir, "v1b.safetensors", RegistryTestData.Checkpoint(b, 3)), "v1b", parent: "base"));
        Assert.That(store[key], Is.EqualTo(newer), "an add leaves a newer-format object alone");
        Assert.That(registry.Contains("v1b"), Is.False);
    }

    private static bool IsDelta(MemoryBlobStore store, string key) =>
        new ObjectStore(new StoreAccess(store)).ReadTable(IdOf(key), "t").Kind == ObjectKind.Delta;

    private static Sha256Digest IdOf(string key) => RegistryLayout.TryParseObjectKey(key, out Sha256Digest id) ? id : throw new ArgumentException(key);

    private static byte[] WithTailVersion(byte[] obj, byte version)
    {
        byte[] copy = (byte[])obj.Clone();
        int tailLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(copy.Length - 16));
        Span<byte> tail = copy.AsSpan(copy.Length - 16 - tailLength, tailLength);
        tail[0] = version;
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(copy.Length - 12), ObjectFormat.Checksum(tail));
        return copy;
    }
}
