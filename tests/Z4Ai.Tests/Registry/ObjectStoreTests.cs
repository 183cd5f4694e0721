using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Integrity;
using Z4Ai.Registry;

namespace Z4Ai.Tests.Registry;

public class ObjectStoreTests
{
    private static readonly int[] AwkwardLengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513, 4095, 4096, 4097, 12289];

    [TestCaseSource(nameof(AwkwardLengths))]
    public void ScratchObject_AwkwardLength_RoundTripsWholeRangedAndStreamed(int length)
    {
        byte[] raw = Bf16Like(length, seed: length);
        var objects = new ObjectStore(new StoreAccess(new MemoryBlobStore()));
        Sha256Digest id = Sha256Digest.Compute(raw);
        using (EncodedObject encoded = ObjectStore.EncodeScratch(raw, DType.BF16, id, 4096, CompressionEffort.Default, 2))
        {
            Assert.That(objects.Put(encoded, default), Is.True);
        }

        Assert.That(objects.ReadWhole(id, "t", null, default), Is.EqualTo(raw));
        var streamed = new MemoryStream();
        objects.CopyTo(id, streamed, "t", default);
        Assert.That(streamed.ToArray(), Is.EqualTo(raw));
        for (int offset = 0; offset < length; offset += Math.Max(1, length / 7))
        {
            int n = Math.Min(length - offset, 5000);
            byte[] part = new byte[n];
            objects.ReadRange(id, offset, part, "t", null, default);
            Assert.That(part, Is.EqualTo(raw.AsSpan(offset, n).ToArray()), $"range at {offset}");
        }
    }

    [Test]
    public void ScratchObject_RandomBytes_RoundTripAndNeverExpandBeyondFraming()
    {
        Arbitrary<(byte[] Data, int ChunkShift)> cases =
            (from length in Gen.Choose(0, 20_000)
             from data in ArbMap.Default.GeneratorFor<byte>().ArrayOf(length)
             from shift in Gen.Choose(12, 14)
             select (data, shift)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var objects = new ObjectStore(new StoreAccess(new MemoryBlobStore()));
            Sha256Digest id = Sha256Digest.Compute(c.Data);
            int chunk = 1 << c.ChunkShift;
            using EncodedObject encoded = ObjectStore.EncodeScratch(c.Data, DType.U8, id, chunk, CompressionEffort.Fast, 1);
            objects.Put(encoded, default);
            int chunks = (c.Data.Length + chunk - 1) / chunk;

            // Each frame is at most its raw bytes plus an 11-byte header; the tail adds at most 32 bytes per chunk plus 80.
            bool bounded = encoded.Length <= c.Data.Length + (chunks * (11 + 32)) + 80;
            return bounded && objects.ReadWhole(id, "t", null, default).AsSpan().SequenceEqual(c.Data);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Test]
    public void DeltaChain_ThreeLevels_DecodesAndUsesTheCache()
    {
        var store = new MemoryBlobStore();
        var objects = new ObjectStore(new StoreAccess(store));
        byte[] v0 = Bf16Like(50_000, 1);
        (Sha256Digest id0, _) = PutScratch(objects, v0);
        ObjectTable previous = objects.ReadTable(id0, "v0");
        byte[] reference = v0;
        var ids = new List<Sha256Digest> { id0 };
        var versions = new List<byte[]> { v0 };
        for (int level = 1; level <= 3; level++)
        {
            byte[] next = (byte[])reference.Clone();
            for (int i = level; i < next.Length; i += 97)
            {
                next[i] ^= 1;
            }

            Sha256Digest id = Sha256Digest.Compute(next);
            using (EncodedObject encoded = ObjectStore.EncodeDelta(next, reference, previous, DType.BF16, id, 4096, CompressionEffort.Default))
            {
                Assert.That(encoded.Table.Depth, Is.EqualTo(level));
                Assert.That(encoded.Length, Is.LessThan(next.Length / 4));
                objects.Put(encoded, default);
            }

            previous = objects.ReadTable(id, "v");
            reference = next;
            ids.Add(id);
            versions.Add(next);
        }

        var fresh = new ObjectStore(new StoreAccess(store));
        for (int i = 0; i < ids.Count; i++)
        {
            Assert.That(fresh.ReadWhole(ids[i], "v", null, default), Is.EqualTo(versions[i]), $"level {i}");
        }

        var cache = new DecodedCache();
        fresh.ReadWhole(ids[2], "v2", cache, default);
        var counting = new ObjectStore(new StoreAccess(store));
        long before = counting.Access.BytesRead;
        counting.ReadWhole(ids[2], "v2", cache, default);
        Assert.That(counting.Access.BytesRead, Is.EqualTo(before), "a cached object is not read again");
        byte[] top = counting.ReadWhole(ids[3], "v3", cache, default);
        Assert.That(top, Is.EqualTo(versions[3]));
        Assert.That(counting.Access.BytesRead - before, Is.LessThan(v0.Length / 2), "only the top delta is read when its reference is cached");
    }

    [Test]
    public void CorruptedObject_EverySampledByteFlippedOrTruncated_OnlyLibraryExceptions()
    {
        var store = new MemoryBlobStore();
        var objects = new ObjectStore(new StoreAccess(store));
        byte[] v0 = Bf16Like(9000, 3);
        (Sha256Digest id0, string key0) = PutScratch(objects, v0);
        byte[] v1 = (byte[])v0.Clone();
        v1[100] ^= 0x40;
        Sha256Digest id1 = Sha256Digest.Compute(v1);
        using (EncodedObject delta = ObjectStore.EncodeDelta(v1, v0, objects.ReadTable(id0, "v0"), DType.BF16, id1, 4096, CompressionEffort.Default))
        {
            objects.Put(delta, default);
        }

        string key1 = RegistryLayout.ObjectKey(id1);
        foreach ((string key, Sha256Digest id, byte[] expected) in new[] { (key0, id0, v0), (key1, id1, v1) })
        {
            byte[] original = store[key];
            int failures = 0;
            for (int i = 0; i < original.Length; i += Math.Max(1, original.Length / 400))
            {
                foreach (byte mask in new byte[] { 0x01, 0x80 })
                {
                    byte[] damaged = (byte[])original.Clone();
                    damaged[i] ^= mask;
                    store[key] = damaged;
                    failures += ReadFails(store, id, expected) ? 1 : 0;
                }
            }

            foreach (int cut in new[] { 0, 1, 15, 16, 17, original.Length / 2, original.Length - 1 })
            {
                store[key] = original[..cut];
                Assert.That(ReadFails(store, id, expected), Is.True, $"truncated to {cut}");
            }

            store[key] = original;
            Assert.That(failures, Is.GreaterThan(0));
        }
    }

    [Test]
    public void ObjectUnderAnotherKey_IsRejectedBeforeDecoding()
    {
        var store = new MemoryBlobStore();
        var objects = new ObjectStore(new StoreAccess(store));
        (Sha256Digest id, string key) = PutScratch(objects, Bf16Like(1000, 4));
        Sha256Digest other = Sha256Digest.Compute([1, 2, 3]);
        store[RegistryLayout.ObjectKey(other)] = store[key];
        var ex = Assert.Throws<Z4AiFormatException>(() => new ObjectStore(new StoreAccess(store)).ReadWhole(other, "t", null, default));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Message, Does.Contain("stored under"));
        Assert.That(id, Is.Not.EqualTo(other));
    }

    [Test]
    public void MissingObject_IsAFormatErrorNamingIt()
    {
        var objects = new ObjectStore(new StoreAccess(new MemoryBlobStore()));
        Sha256Digest id = Sha256Digest.Compute([9]);
        var ex = Assert.Throws<Z4AiFormatException>(() => objects.ReadWhole(id, "layer.weight", null, default));
        Assert.That(ex!.Message, Does.Contain(id.ToString()).And.Contain("missing"));
        Assert.That(objects.TryReadTable(id), Is.Null);
    }

    private static bool ReadFails(MemoryBlobStore store, Sha256Digest id, byte[] expected)
    {
        try
        {
            byte[] bytes = new ObjectStore(new StoreAccess(store)).ReadWhole(id, "t", null, default);
            Assert.That(bytes, Is.EqualTo(expected), "a read that succeeds returns the right bytes");
            return false;
        }
        catch (Z4AiException)
        {
            return true;
        }
    }

    private static (Sha256Digest Id, string Key) PutScratch(ObjectStore objects, byte[] raw)
    {
        Sha256Digest id = Sha256Digest.Compute(raw);
        using EncodedObject encoded = ObjectStore.EncodeScratch(raw, DType.BF16, id, 4096, CompressionEffort.Default, 1);
        objects.Put(encoded, default);
        return (id, RegistryLayout.ObjectKey(id));
    }

    internal static byte[] Bf16Like(int length, int seed)
    {
        var rng = new Random(seed);
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (i & 1) == 1 ? (byte)(0x3C + rng.Next(3)) : (byte)rng.Next(256);
        }

        return data;
    }
}
