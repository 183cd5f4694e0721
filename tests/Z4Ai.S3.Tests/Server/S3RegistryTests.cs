using NUnit.Framework;

namespace Z4Ai.S3.Tests.Server;

/// <summary>The registry operations of the directory store's suite, run on a bucket of the real server.</summary>
public sealed class S3RegistryTests : ServerTestBase
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-s3-registry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void InitAddGetVerifyList_FamilyOnABucket_RestoresEachByteForByte()
    {
        using S3BlobStore store = NewStore();
        (ModelRegistry registry, Dictionary<string, string> files) = Family(store);
        foreach ((string name, string path) in files)
        {
            string output = Path.Combine(_dir, name + ".out");
            registry.Get(name, output);
            Assert.That(Sha(output), Is.EqualTo(Sha(path)), name);
        }

        Assert.That(registry.Verify().Passed, Is.True);
        Assert.That(registry.List().Select(v => v.Name), Is.EqualTo(new[] { "base", "ft", "ck" }));
        using S3BlobStore again = S3BlobStore.Create(S3TestServer.Options(), BucketName, store.Client.Prefix, S3TestServer.Credentials);
        Assert.That(ModelRegistry.Open(again).BaseName, Is.EqualTo("base"));
    }

    [Test]
    public void GetTensor_OnABucket_FetchesAboutThatTensorsBytesOnly()
    {
        using S3BlobStore store = NewStore();
        _ = Family(store);
        long stored;
        using (S3BlobStore probe = NewStoreAt(store))
        {
            stored = ModelRegistry.Open(probe).GetStoredBytes();
        }

        using S3BlobStore reader = NewStoreAt(store);
        ModelRegistry registry = ModelRegistry.Open(reader);
        long afterOpen = reader.BytesRead;
        Tensor norm = registry.GetTensor("base", "layers.1.norm.weight");
        long forTensor = reader.BytesRead - afterOpen;
        Assert.That(norm.ToArray<float>(), Is.EqualTo(Base()["layers.1.norm.weight"].ToArray<float>()));

        // A 64-float tensor is ~256 bytes compressed; the manifest adds a few KB. The whole family is far larger.
        TestContext.Progress.WriteLine($"GetTensor read {forTensor} bytes in {reader.ReadRequests} GETs; stored objects total {stored} bytes");
        Assert.That(forTensor, Is.LessThan(stored / 10), "a ranged GetTensor must not download the family");
        Assert.That(forTensor, Is.GreaterThan(0));
    }

    [Test]
    public async Task Add_RacingWritersOfOneName_ExactlyOneWins()
    {
        using S3BlobStore store = NewStore();
        (ModelRegistry registry, _) = Family(store);
        string pa = Write("a.safetensors", Checkpoint(Base(), 31));
        string pb = Write("b.safetensors", Checkpoint(Base(), 32));
        string[] paths = [pa, pb, pa, pb];
        Task<string>[] adds = paths.Select(p => Task.Run(() =>
        {
            using S3BlobStore own = NewStoreAt(store);
            try
            {
                return ModelRegistry.Open(own).Add(p, "race", parent: "base").Name;
            }
            catch (Z4AiRegistryException ex) when (ex.Kind == Z4AiErrorKind.Conflict)
            {
                return "conflict";
            }
        })).ToArray();
        string[] outcomes = await Task.WhenAll(adds);
        Assert.That(outcomes.Count(o => o == "race"), Is.EqualTo(1), string.Join(",", outcomes));
        Assert.That(outcomes.Count(o => o == "conflict"), Is.EqualTo(3));
        string output = Path.Combine(_dir, "race.out");
        registry.Get("race", output);
        Assert.That(Sha(output), Is.AnyOf(Sha(pa), Sha(pb)));
        Assert.That(registry.Verify().Passed, Is.True);
    }

    [Test]
    public void Gc_OnABucket_SparesYoungGarbageThenRemovesOnlyUnreachableObjects()
    {
        using S3BlobStore store = NewStore();
        (ModelRegistry registry, Dictionary<string, string> files) = Family(store);
        registry.Remove("ck");
        RegistryGcReport spared = registry.Gc();
        Assert.That(spared.ObjectsDeleted, Is.Zero, "the default grace period spares just-written objects");
        Assert.That(spared.ObjectsSpared, Is.GreaterThan(0));

        RegistryGcReport collected = registry.Gc(TimeSpan.Zero);
        Assert.That(collected.ObjectsDeleted, Is.EqualTo(spared.ObjectsSpared));
        Assert.That(registry.Verify().Passed, Is.True);
        foreach (string name in new[] { "base", "ft" })
        {
            string output = Path.Combine(_dir, name + ".gc.out");
            registry.Get(name, output);
            Assert.That(Sha(output), Is.EqualTo(Sha(files[name])), name);
        }
    }

    [Test]
    public async Task BlobStore_Contract_PutIfAbsentReadRangeListTouchDelete()
    {
        using S3BlobStore store = NewStore();
        byte[] data = RandomBytes(3000, 5);
        Assert.That(await store.PutIfAbsentAsync("objects/aa/x", (s, ct) => s.WriteAsync(data, ct)), Is.True);
        Assert.That(await store.PutIfAbsentAsync("objects/aa/x", (s, ct) => s.WriteAsync(new byte[] { 1 }, ct)), Is.False);
        Assert.That((await store.GetInfoAsync("objects/aa/x"))!.Length, Is.EqualTo(3000));
        Assert.That(await store.GetInfoAsync("objects/aa/none"), Is.Null);

        byte[] part = new byte[100];
        Assert.That(await store.ReadAsync("objects/aa/x", 2950, part), Is.EqualTo(50));
        Assert.That(part.AsSpan(0, 50).ToArray(), Is.EqualTo(data.AsSpan(2950).ToArray()));
        Assert.That(await store.ReadAsync("objects/aa/x", 5000, part), Is.Zero);
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await store.ReadAsync("objects/aa/none", 0, part));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await store.OpenReadAsync("objects/aa/none"));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await store.TouchAsync("objects/aa/none"));

        await using (Stream s = await store.OpenReadAsync("objects/aa/x"))
        {
            var copy = new MemoryStream();
            await s.CopyToAsync(copy);
            Assert.That(copy.ToArray(), Is.EqualTo(data));
        }

        Assert.ThrowsAsync<InvalidOperationException>(async () => await store.PutIfAbsentAsync("objects/aa/y", (_, _) => throw new InvalidOperationException("writer failed")));
        Assert.That(await store.GetInfoAsync("objects/aa/y"), Is.Null, "a failed writer publishes nothing");

        await store.TouchAsync("objects/aa/x");
        List<string> keys = [];
        await foreach (BlobInfo b in store.ListAsync("objects/"))
        {
            keys.Add(b.Key);
        }

        Assert.That(keys, Is.EqualTo(new[] { "objects/aa/x" }));
        await using (IAsyncDisposable? handle = await store.TryLockAsync("gc", exclusive: true))
        {
            Assert.That(handle, Is.Not.Null);
        }

        Assert.That(await store.DeleteAsync("objects/aa/x"), Is.True);
        Assert.That(await store.DeleteAsync("objects/aa/x"), Is.False);
    }

    [Test]
    public async Task Probe_OnCeph_FindsConditionalPutAndLeavesNoProbeObjects()
    {
        using S3BlobStore store = NewStore();
        string notes = await store.ProbeAsync();
        Assert.That(store.Client.Capabilities.ConditionalCreate, Is.True, notes);
        Assert.That(store.Client.Capabilities.NeedsClaimFallback, Is.False, notes);
        Assert.That(await store.PutIfAbsentAsync("manifests/v.json", (s, ct) => s.WriteAsync("{}"u8.ToArray(), ct)), Is.True);
        Assert.That(await store.PutIfAbsentAsync("manifests/v.json", (s, ct) => s.WriteAsync("[]"u8.ToArray(), ct)), Is.False);
        List<string> keys = [];
        await foreach (BlobInfo b in store.ListAsync(string.Empty))
        {
            keys.Add(b.Key);
        }

        Assert.That(keys, Is.EqualTo(new[] { "manifests/v.json" }));
    }

    [Test]
    public void ParseLocation_GoodAndBad_SplitsOrRejects()
    {
        Assert.That(S3BlobStore.ParseLocation("s3://my-bucket/a/b/"), Is.EqualTo(("my-bucket", "a/b")));
        Assert.That(S3BlobStore.ParseLocation("s3://my-bucket"), Is.EqualTo(("my-bucket", string.Empty)));
        Assert.That(S3BlobStore.IsS3Location("models/reg"), Is.False);
        Assert.Throws<ArgumentException>(() => S3BlobStore.ParseLocation("s3://UPPER/x"));
        Assert.Throws<ArgumentException>(() => S3BlobStore.ParseLocation("s3:///x"));
        Assert.Throws<ArgumentException>(() => S3BlobStore.ParseLocation("/dir"));
    }

    private S3BlobStore NewStore() =>
        S3BlobStore.Create(S3TestServer.Options(), BucketName, "reg-" + Guid.NewGuid().ToString("N")[..8], S3TestServer.Credentials);

    private static S3BlobStore NewStoreAt(S3BlobStore other) =>
        S3BlobStore.Create(S3TestServer.Options(), other.Client.Bucket, other.Client.Prefix, S3TestServer.Credentials);

    private (ModelRegistry Registry, Dictionary<string, string> Files) Family(IBlobStore store) => TestFamily.Create(store, _dir);

    private string Write(string fileName, Dictionary<string, Tensor> model) => TestFamily.Write(_dir, fileName, model);

    private static string Sha(string path) => TestFamily.Sha(path);

    private static Dictionary<string, Tensor> Base() => TestFamily.Base();

    private static Dictionary<string, Tensor> Checkpoint(Dictionary<string, Tensor> model, int seed) => TestFamily.Checkpoint(model, seed);
}
