using Microsoft.Extensions.Logging;
using NUnit.Framework;
using Z4Ai.Registry;

namespace Z4Ai.Tests.Registry;

[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
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
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        foreach ((string name, string path) in files)
        {
            string output = Path.Combine(_dir, name + ".out.safetensors");
            registry.Get(name, output);
            Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(path)), name);
        }

        Assert.That(registry.Verify().Passed, Is.True);
        Assert.That(registry.List().Select(v => v.Name), Is.EqualTo(new[] { "base", "ft", "ck" }));
    }

    [Test]
    public void Add_UnchangedModel_StoresOnlyItsManifest()
    {
        Dictionary<string, Tensor> b = RegistryTestData.Base();
        string path = RegistryTestData.Write(_dir, "base.safetensors", b);
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), path, "base");
        long before = registry.GetStoredBytes();
        RegistryAddReport report = registry.Add(path, "same");
        Assert.That(report.Tensors.All(t => t.Storage == TensorStorage.Copy), Is.True);
        Assert.That(report.StoredBytes, Is.Zero);
        Assert.That(registry.GetStoredBytes(), Is.EqualTo(before));
        Assert.That(report.Parent, Is.EqualTo("base"));
    }

    [Test]
    public void Add_FineTuneAndCheckpoint_StoreDeltasFarSmallerThanTheBase()
    {
        (ModelRegistry registry, _) = Family();
        RegistryVersion b = registry.GetVersion("base");
        RegistryVersion ft = registry.GetVersion("ft");
        RegistryVersion ck = registry.GetVersion("ck");
        Assert.That(ft.StoredBytes, Is.LessThan(b.StoredBytes / 10), "a sparse fine-tune costs little");
        Assert.That(ck.StoredBytes, Is.LessThan(b.StoredBytes / 2), "a checkpoint step costs less than the base");
        Assert.That(ft.Parent, Is.EqualTo("base"));
        Assert.That(ck.Parent, Is.EqualTo("ft"), "the default parent is the latest version");
    }

    [Test]
    public void Add_TensorsThatDoNotFitTheFamily_AreStoredFromScratchWithAReason()
    {
        (ModelRegistry registry, _) = Family();
        var rng = new Random(9);
        Dictionary<string, Tensor> odd = RegistryTestData.Base();
        odd["layers.0.attn.q.weight"] = RegistryTestData.Bf16(rng, 48 * 64, [48, 64], 0.03);
        odd["layers.1.norm.weight"] = Tensor.FromArray<double>(DType.F64, [64], Enumerable.Range(0, 64).Select(i => (double)i).ToArray());
        odd["brand.new"] = RegistryTestData.Bf16(rng, 1000, [1000], 0.1);
        string path = RegistryTestData.Write(_dir, "odd.safetensors", odd);
        RegistryAddReport report = registry.Add(path, "odd", parent: "base");
        RegistryTensorReport renamed = report.Tensors.Single(t => t.Name == "brand.new");
        RegistryTensorReport retyped = report.Tensors.Single(t => t.Name == "layers.1.norm.weight");
        Assert.That(renamed.Storage, Is.EqualTo(TensorStorage.Scratch));
        Assert.That(renamed.Note, Does.Contain("no tensor of this name"));
        Assert.That(retyped.Storage, Is.EqualTo(TensorStorage.Scratch));
        Assert.That(retyped.Note, Does.Contain("another dtype"));
        string output = Path.Combine(_dir, "odd.out");
        registry.Get("odd", output);
        Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(path)));
    }

    [Test]
    public void Add_LongChainOfCheckpoints_StaysWithinTheDepthBoundAndRestores()
    {
        Dictionary<string, Tensor> model = RegistryTestData.Base();
        string basePath = RegistryTestData.Write(_dir, "c0.safetensors", model);
        var options = new RegistryOptions { MaxChainDepth = 2 };
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), basePath, "c0", options);
        var paths = new Dictionary<string, string> { ["c0"] = basePath };
        var storages = new HashSet<TensorStorage>();
        for (int i = 1; i <= 6; i++)
        {
            model = RegistryTestData.Checkpoint(model, 100 + i);
            string path = RegistryTestData.Write(_dir, $"c{i}.safetensors", model);
            RegistryAddReport report = registry.Add(path, $"c{i}");
            Assert.That(report.Tensors.Max(t => t.Depth), Is.LessThanOrEqualTo(2), $"c{i}");
            storages.UnionWith(report.Tensors.Select(t => t.Storage));
            paths[$"c{i}"] = path;
        }

        Assert.That(storages, Does.Contain(TensorStorage.DeltaFromParent).And.Contain(TensorStorage.DeltaFromBase));
        foreach ((string name, string path) in paths)
        {
            string output = Path.Combine(_dir, name + ".out");
            registry.Get(name, output);
            Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(path)), name);
        }

        Assert.That(registry.Log("c6").Select(v => v.Name), Is.EqualTo(new[] { "c6", "c5", "c4", "c3", "c2", "c1", "c0" }));
        Assert.That(registry.Verify().Passed, Is.True);
    }

    [Test]
    public void GetTensorAndOpen_ReadOneVersionLazilyAndVerified()
    {
        (ModelRegistry registry, _) = Family();
        Dictionary<string, Tensor> ck = RegistryTestData.Checkpoint(RegistryTestData.FineTune(RegistryTestData.Base(), 0.05, 2), 3);
        Tensor q = registry.GetTensor("ck", "layers.0.attn.q.weight");
        Assert.That(q.Data.ToArray(), Is.EqualTo(ck["layers.0.attn.q.weight"].Data.ToArray()));
        Assert.That(q.Shape, Is.EqualTo(new long[] { 64, 64 }));

        using SafeTensorsReader reader = registry.Open("ck");
        Assert.That(reader.Keys, Is.EqualTo(ck.Keys.Order(StringComparer.Ordinal)));
        Assert.That(reader.Metadata, Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt" }));
        Assert.That(reader.GetTensor("embed.weight").Data.ToArray(), Is.EqualTo(ck["embed.weight"].Data.ToArray()));
        Tensor rows = reader.GetSlice("embed.weight", 10, 5);
        Assert.That(rows.Data.ToArray(), Is.EqualTo(ck["embed.weight"].Data.Slice(10 * 64 * 2, 5 * 64 * 2).ToArray()));
        Assert.That(reader.TryGetTensor("nope", out _), Is.False);
        Assert.Throws<Z4AiTensorNotFoundException>(() => registry.GetTensor("ck", "nope"));
        var copy = new MemoryStream();
        reader.CopyTensorTo("position_ids", copy);
        Assert.That(copy.ToArray(), Is.EqualTo(ck["position_ids"].Data.ToArray()));
        Assert.That(reader.BytesRead, Is.GreaterThan(0));
    }

    [Test]
    public void UnknownNamesAndBadArguments_FailPrecisely()
    {
        (ModelRegistry registry, _) = Family();
        foreach (Action call in new Action[]
        {
            () => registry.Get("nope", Path.Combine(_dir, "x")),
            () => registry.GetTensor("nope", "embed.weight"),
            () => registry.Open("nope"),
            () => registry.Log("nope"),
            () => registry.Remove("nope"),
            () => registry.Verify("nope"),
            () => registry.GetVersion("nope"),
            () => registry.Add(Path.Combine(_dir, "base.safetensors"), "x", parent: "nope"),
        })
        {
            var ex = Assert.Throws<Z4AiRegistryException>(() => call());
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.VersionNotFound));
            Assert.That(ex.VersionName, Is.EqualTo("nope"));
        }

        Assert.Throws<ArgumentException>(() => registry.Get("../etc", Path.Combine(_dir, "x")));
        Assert.Throws<ArgumentException>(() => registry.Add(Path.Combine(_dir, "base.safetensors"), "white space"));
        Assert.Throws<ArgumentException>(() => registry.Add(_dir, "dir"));
        Assert.Throws<FileNotFoundException>(() => registry.Add(Path.Combine(_dir, "missing.safetensors"), "m"));
        Assert.That(File.Exists(Path.Combine(_dir, "x")), Is.False);
        Assert.That(registry.Contains("ft"), Is.True);
        Assert.That(registry.Contains("../ft"), Is.False);
    }

    [Test]
    public void Open_StoreThatIsNotARegistry_SaysSo()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelRegistry.Open(new LocalBlobStore(_store)));
        Assert.That(ex!.Message, Does.Contain("not a Z4Ai registry").And.Contain("registry.json"));
        Assert.That(Directory.Exists(_store), Is.False, "opening a mistyped path leaves nothing behind");
    }

    [Test]
    public void Init_Twice_IsAConflict_AndAnInterruptedInitResumes()
    {
        string path = RegistryTestData.Write(_dir, "base.safetensors", RegistryTestData.Base());
        ModelRegistry.Init(new LocalBlobStore(_store), path, "base");
        var again = Assert.Throws<Z4AiRegistryException>(() => ModelRegistry.Init(new LocalBlobStore(_store), path, "base"));
        Assert.That(again!.Kind, Is.EqualTo(Z4AiErrorKind.Conflict));
        var other = Assert.Throws<Z4AiRegistryException>(() => ModelRegistry.Init(new LocalBlobStore(_store), path, "other"));
        Assert.That(other!.Message, Does.Contain("with base 'base'"));

        // An init killed after writing registry.json but before the base manifest.
        File.Delete(Path.Combine(_store, "manifests", "base.json"));
        ModelRegistry resumed = ModelRegistry.Init(new LocalBlobStore(_store), path, "base");
        Assert.That(resumed.List().Select(v => v.Name), Is.EqualTo(new[] { "base" }));
        Assert.That(resumed.Verify().Passed, Is.True);
    }

    [Test]
    public void Add_NameTaken_IsAConflictAndChangesNothing()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        Dictionary<string, byte[]> before = Snapshot("manifests");
        var ex = Assert.Throws<Z4AiRegistryException>(() => registry.Add(files["base"], "ft"));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.Conflict));
        Assert.That(ex.Message, Does.Contain("already exists"));
        Assert.That(Snapshot("manifests"), Is.EqualTo(before));
    }

    [Test]
    public void Add_InvalidOrCancelled_LeavesEveryVersionAsItWas()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        Dictionary<string, byte[]> before = Snapshot("manifests");
        byte[] good = File.ReadAllBytes(files["ck"]);
        string truncated = Path.Combine(_dir, "truncated.safetensors");
        File.WriteAllBytes(truncated, good[..(good.Length - 10)]);
        Assert.Throws<Z4AiFormatException>(() => registry.Add(truncated, "bad"));

        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.BytesDone > 0)
            {
                cts.Cancel();
            }
        });
        Dictionary<string, Tensor> changed = RegistryTestData.Checkpoint(RegistryTestData.Base(), 77);
        string path = RegistryTestData.Write(_dir, "changed.safetensors", changed);
        Assert.Catch<OperationCanceledException>(() => registry.Add(path, "cancelled", progress: progress, cancellationToken: cts.Token));

        Assert.That(Snapshot("manifests"), Is.EqualTo(before));
        Assert.That(registry.Contains("bad") || registry.Contains("cancelled"), Is.False);
        Assert.That(registry.Verify().Passed, Is.True);
    }

    [Test]
    public void Remove_LeafParentAndBase_FollowTheRules()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        var parent = Assert.Throws<Z4AiRegistryException>(() => registry.Remove("ft"));
        Assert.That(parent!.Kind, Is.EqualTo(Z4AiErrorKind.Conflict));
        Assert.That(parent.Message, Does.Contain("ck"));
        var baseRemoval = Assert.Throws<Z4AiRegistryException>(() => registry.Remove("base", force: true));
        Assert.That(baseRemoval!.Message, Does.Contain("base of the family"));

        registry.Remove("ft", force: true);
        Assert.That(registry.List().Select(v => v.Name), Is.EqualTo(new[] { "base", "ck" }));
        IReadOnlyList<RegistryVersion> lineage = registry.Log("ck");
        Assert.That(lineage.Select(v => v.Name), Is.EqualTo(new[] { "ck" }));
        Assert.That(lineage[0].Parent, Is.EqualTo("ft"), "the lineage ends at the removed name");

        RegistryGcReport gc = registry.Gc(TimeSpan.Zero);
        string output = Path.Combine(_dir, "ck.out");
        registry.Get("ck", output);
        Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(files["ck"])), "ck's deltas keep ft's objects alive");
        Assert.That(registry.Verify().Passed, Is.True);
        TestContext.Out.WriteLine(gc);

        registry.Remove("ck");
        RegistryGcReport second = registry.Gc(TimeSpan.Zero);
        Assert.That(second.ObjectsDeleted, Is.GreaterThan(0));
        Assert.That(registry.Verify().Passed, Is.True);
        registry.Get("base", output);
        Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(files["base"])));
    }

    [Test]
    public void Gc_DefaultGracePeriod_SparesRecentGarbage()
    {
        (ModelRegistry registry, _) = Family();
        registry.Remove("ck");
        long before = registry.GetStoredBytes();
        RegistryGcReport report = registry.Gc();
        Assert.That(report.ObjectsDeleted, Is.Zero);
        Assert.That(report.ObjectsSpared, Is.GreaterThan(0));
        Assert.That(registry.GetStoredBytes(), Is.EqualTo(before));
    }

    [Test]
    public void Gc_DamagedManifest_DeletesNothing()
    {
        (ModelRegistry registry, _) = Family();
        registry.Remove("ck");
        File.WriteAllText(Path.Combine(_store, "manifests", "ft.json"), "{ torn");
        long before = registry.GetStoredBytes();
        var ex = Assert.Throws<Z4AiFormatException>(() => registry.Gc(TimeSpan.Zero));
        Assert.That(ex!.Message, Does.Contain("'ft' is damaged"));
        Assert.That(registry.GetStoredBytes(), Is.EqualTo(before));
    }

    [Test]
    public void Gc_OnAStoreWithoutLocks_SparesYoungObjectsAndTheirReferences()
    {
        var store = new MemoryBlobStore();
        string basePath = RegistryTestData.Write(_dir, "base.safetensors", RegistryTestData.Base());
        ModelRegistry registry = ModelRegistry.Init(store, basePath, "base");
        Dictionary<string, Tensor> next = RegistryTestData.Checkpoint(RegistryTestData.Base(), 5);
        registry.Add(RegistryTestData.Write(_dir, "v1.safetensors", next), "v1");
        registry.Add(RegistryTestData.Write(_dir, "v2.safetensors", RegistryTestData.Checkpoint(next, 6)), "v2");

        // v1 is removed; v2 (whose deltas reference v1's objects) is removed too, but its objects are young, as a
        // writer's would be just before it publishes its manifest.
        registry.Remove("v2");
        registry.Remove("v1");
        DateTimeOffset old = DateTimeOffset.UtcNow.AddDays(-1);
        string[] v2Objects = store.Keys.Where(k => k.StartsWith("objects/", StringComparison.Ordinal)).ToArray();
        foreach (string key in store.Keys.Where(k => k.StartsWith("objects/", StringComparison.Ordinal)).ToArray())
        {
            store.SetModified(key, old);
        }

        Dictionary<string, byte[]> objectsBefore = store.Keys.Where(k => k.StartsWith("objects/", StringComparison.Ordinal)).ToDictionary(k => k, k => store[k]);
        string youngKey = objectsBefore.Keys.First(k => DepthOf(store, k) >= 2);
        store.SetModified(youngKey, DateTimeOffset.UtcNow);
        RegistryGcReport report = registry.Gc(TimeSpan.FromHours(1));
        Assert.That(report.ObjectsSpared, Is.GreaterThanOrEqualTo(2), "the young delta and the object it references");
        Assert.That(store.Keys, Does.Contain(youngKey));
        var objects = new ObjectStore(new StoreAccess(store));
        Assert.That(RegistryLayout.TryParseObjectKey(youngKey, out Integrity.Sha256Digest youngId), Is.True);
        Assert.DoesNotThrow(() => objects.ReadWhole(youngId, "young", null, default), "a young object stays decodable");

        store.SetModified(youngKey, old);
        RegistryGcReport later = registry.Gc(TimeSpan.FromHours(1));
        Assert.That(later.ObjectsDeleted, Is.GreaterThan(0));
        Assert.That(registry.Verify().Passed, Is.True);
        Assert.That(v2Objects, Is.Not.Empty);
    }

    [Test]
    public void Verify_CorruptBaseObject_NamesEveryVersionItBreaks()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        Manifest ck = ReadManifest("ck");
        ManifestTensor q = ck.AllTensors.Single(t => t.Name == "layers.0.attn.q.weight");
        Assert.That(q.Storage, Is.EqualTo(TensorStorage.DeltaFromParent));
        string baseObject = RootOfChain(q.Object);
        byte[] bytes = File.ReadAllBytes(baseObject);
        bytes[bytes.Length / 3] ^= 0x10;
        File.WriteAllBytes(baseObject, bytes);

        RegistryVerifyReport report = registry.Verify();
        Assert.That(report.Passed, Is.False);
        Assert.That(report.BrokenVersions, Is.EqualTo(new[] { "base", "ck", "ft" }));
        RegistryIssue issue = report.Issues.Single();
        Assert.That(issue.Subject, Does.Contain(Path.GetFileName(baseObject)));
        Assert.That(issue.Tensors, Does.Contain("ck: layers.0.attn.q.weight").And.Contain("base: layers.0.attn.q.weight"));
        Assert.That(registry.Verify("ft").BrokenVersions, Is.EqualTo(new[] { "ft" }));

        string output = Path.Combine(_dir, "ck.out");
        Assert.Catch<Z4AiException>(() => registry.Get("ck", output));
        Assert.That(File.Exists(output), Is.False, "a failed get leaves no output");
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty);
        Assert.That(registry.Verify("base").Passed, Is.False);

        // Unrelated tensors still read.
        Assert.That(registry.GetTensor("ck", "position_ids").ElementCount, Is.EqualTo(64));
        _ = files;
    }

    [Test]
    public void Verify_DamagedOrMissingManifests_AreReportedNotThrown()
    {
        (ModelRegistry registry, _) = Family();
        File.WriteAllText(Path.Combine(_store, "manifests", "ft.json"), "{\"z4aiManifest\":1,\"sha256\":\"00\",\"body\":{}}");
        RegistryVerifyReport report = registry.Verify();
        Assert.That(report.Passed, Is.False);
        Assert.That(report.Issues.Single().Subject, Is.EqualTo("manifest ft"));
        Assert.That(report.BrokenVersions, Is.EqualTo(new[] { "ft" }));
        RegistryVersion listed = registry.List().Single(v => v.Name == "ft");
        Assert.That(listed.Damage, Does.Contain("checksum"));
        Assert.That(registry.Log("ck")[^1].Damage, Is.Not.Null);

        File.Delete(Path.Combine(_store, "manifests", "base.json"));
        RegistryVerifyReport missingBase = registry.Verify();
        Assert.That(missingBase.Issues.Select(i => i.Subject), Does.Contain("manifest base"));
        Assert.That(missingBase.Issues.Single(i => i.Subject == "manifest base").Problem, Does.Contain("missing"));
        Assert.That(registry.Verify("ck").Passed, Is.True, "ck's own data is intact");
    }

    [Test]
    public void Add_ObjectWithADamagedTail_IsReplacedAndRepairsItsVersions()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        Manifest b = ReadManifest("base");
        ManifestTensor norm = b.AllTensors.Single(t => t.Name == "layers.0.norm.weight");
        string path = ObjectPath(norm.Object);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^20] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        Assert.That(registry.Verify("base").Passed, Is.False);

        RegistryAddReport again = registry.Add(files["base"], "base-again", parent: "base");
        Assert.That(again.Tensors.Single(t => t.Name == "layers.0.norm.weight").Storage, Is.Not.EqualTo(TensorStorage.Copy));
        Assert.That(registry.Verify().Passed, Is.True);
    }

    [Test]
    public void ImportExport_ShardedLayout_RoundTripsByteForByte()
    {
        Dictionary<string, Tensor> model = RegistryTestData.Base();
        string src = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(src);
        var shard1 = model.Where(p => p.Key.StartsWith("layers.0", StringComparison.Ordinal)).ToDictionary();
        var shard2 = model.Where(p => !p.Key.StartsWith("layers.0", StringComparison.Ordinal)).ToDictionary();
        shard2["stray.extra"] = Tensor.FromArray<float>(DType.F32, [2], [1f, 2f]);
        RegistryTestData.Write(src, "model-00001-of-00002.safetensors", shard1);
        RegistryTestData.Write(src, "model-00002-of-00002.safetensors", shard2);
        string index = WriteIndex(src, shard1.Keys.Select(k => (k, "model-00001-of-00002.safetensors")).Concat(model.Keys.Except(shard1.Keys).Select(k => (k, "model-00002-of-00002.safetensors"))));

        string basePath = RegistryTestData.Write(_dir, "base.safetensors", model);
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), basePath, "base");
        RegistryAddReport report = registry.Import(src, "hf");
        Assert.That(report.Tensors.Where(t => t.Name != "stray.extra").All(t => t.Storage == TensorStorage.Copy), Is.True, "same tensors, new layout: nothing new stored but the stray");

        string exported = Path.Combine(_dir, "exported");
        IReadOnlyList<string> written = registry.Export("hf", exported);
        Assert.That(written.Select(Path.GetFileName), Is.EquivalentTo(new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json" }));
        foreach (string path in written)
        {
            Assert.That(RegistryTestData.Sha(path), Is.EqualTo(RegistryTestData.Sha(Path.Combine(src, Path.GetFileName(path)))), path);
        }

        string merged = Path.Combine(_dir, "merged.safetensors");
        registry.Get("hf", merged);
        IReadOnlyDictionary<string, Tensor> loaded = SafeTensorsCompat.LoadFile(merged);
        Assert.That(loaded.Keys, Is.EquivalentTo(model.Keys), "the stray tensor is not assigned by weight_map, so it is not exposed");
        Assert.Throws<Z4AiTensorNotFoundException>(() => registry.GetTensor("hf", "stray.extra"));
        Assert.That(registry.GetTensor("hf", "layers.0.mlp.up.weight").Data.ToArray(), Is.EqualTo(model["layers.0.mlp.up.weight"].Data.ToArray()));
        Assert.That(registry.GetVersion("hf").FileCount, Is.EqualTo(2));
        Assert.That(index, Does.EndWith("model.safetensors.index.json"));
        Assert.That(registry.Verify().Passed, Is.True);
    }

    [TestCase("../outside.safetensors", "not a plain file name")]
    [TestCase("/etc/passwd", "not a plain file name")]
    [TestCase("sub/dir.safetensors", "not a plain file name")]
    [TestCase("absent.safetensors", "does not exist")]
    public void Import_HostileOrBrokenIndex_IsRejected(string shard, string message)
    {
        string src = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(src);
        Dictionary<string, Tensor> model = RegistryTestData.Base();
        RegistryTestData.Write(src, "model-00001-of-00001.safetensors", model);
        WriteIndex(src, model.Keys.Select(k => (k, k == "embed.weight" ? shard : "model-00001-of-00001.safetensors")));
        string basePath = RegistryTestData.Write(_dir, "base.safetensors", model);
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), basePath, "base");
        var ex = Assert.Throws<Z4AiFormatException>(() => registry.Import(src, "hf"));
        Assert.That(ex!.Message, Does.Contain(message));
        Assert.That(registry.Contains("hf"), Is.False);
    }

    [Test]
    public void Import_IndexNamingATensorItsShardLacks_IsRejected()
    {
        string src = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(src);
        Dictionary<string, Tensor> model = RegistryTestData.Base();
        RegistryTestData.Write(src, "model-00001-of-00001.safetensors", model);
        WriteIndex(src, model.Keys.Append("ghost.weight").Select(k => (k, "model-00001-of-00001.safetensors")));
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), RegistryTestData.Write(_dir, "b.safetensors", model), "base");
        var ex = Assert.Throws<Z4AiFormatException>(() => registry.Import(Path.Combine(src, "model.safetensors.index.json"), "hf"));
        Assert.That(ex!.TensorName, Is.EqualTo("ghost.weight"));

        File.WriteAllText(Path.Combine(src, "model.safetensors.index.json"), "{\"weight_map\": {\"a\": \"x.safetensors\", \"a\": \"y.safetensors\"}}");
        var duplicate = Assert.Throws<Z4AiFormatException>(() => registry.Import(src, "hf"));
        Assert.That(duplicate!.Kind, Is.EqualTo(Z4AiErrorKind.DuplicateKey));
    }

    [Test]
    public void Add_TensorsAboveTheDeltaLimit_AreStreamedFromScratch()
    {
        Dictionary<string, Tensor> model = RegistryTestData.Base();
        string basePath = RegistryTestData.Write(_dir, "base.safetensors", model);
        var options = new RegistryOptions { MaxDeltaTensorBytes = 10_000, ChunkSize = 4096 };
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), basePath, "base", options);
        Dictionary<string, Tensor> next = RegistryTestData.Checkpoint(model, 4);
        string path = RegistryTestData.Write(_dir, "next.safetensors", next);
        RegistryAddReport report = registry.Add(path, "next");
        RegistryTensorReport embed = report.Tensors.Single(t => t.Name == "embed.weight");
        Assert.That(embed.Storage, Is.EqualTo(TensorStorage.Scratch));
        Assert.That(embed.Note, Does.Contain("delta limit"));
        Assert.That(report.Tensors.Single(t => t.Name == "layers.0.attn.q.weight").Storage, Is.EqualTo(TensorStorage.DeltaFromParent));
        string output = Path.Combine(_dir, "next.out");
        registry.Get("next", output);
        Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(path)));
        using SafeTensorsReader reader = registry.Open("next");
        Assert.That(reader.GetSlice("embed.weight", 100, 3).Data.ToArray(), Is.EqualTo(next["embed.weight"].Data.Slice(100 * 128, 3 * 128).ToArray()));
    }

    [Test]
    public void Add_ContainerFile_RestoresTheOriginalSafetensors()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        string container = Path.Combine(_dir, "ck.z4ai");
        Z4AiContainer.Compress(files["ck"], container);
        registry.Add(container, "ck-from-container", parent: "ft");
        string output = Path.Combine(_dir, "out.safetensors");
        registry.Get("ck-from-container", output);
        Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(files["ck"])));
        Assert.That(registry.GetVersion("ck-from-container").StoredBytes, Is.Zero, "every tensor is already stored");
    }

    [Test]
    public void Registry_OnAnObjectStoreWithoutLocks_WorksEndToEnd()
    {
        var store = new MemoryBlobStore();
        (ModelRegistry registry, Dictionary<string, string> files) = Family(store);
        foreach ((string name, string path) in files)
        {
            string output = Path.Combine(_dir, name + ".mem.out");
            registry.Get(name, output);
            Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(path)));
        }

        Assert.That(store.Keys, Does.Contain("registry.json").And.Contain("manifests/ck.json"));
        Assert.That(ModelRegistry.Open(store).BaseName, Is.EqualTo("base"));
    }

    [Test]
    public async Task Add_ConcurrentWritersOfOneName_OneWinsOneConflicts()
    {
        (ModelRegistry registry, Dictionary<string, string> files) = Family();
        Dictionary<string, Tensor> a = RegistryTestData.Checkpoint(RegistryTestData.Base(), 31);
        Dictionary<string, Tensor> b = RegistryTestData.Checkpoint(RegistryTestData.Base(), 32);
        string pa = RegistryTestData.Write(_dir, "a.safetensors", a);
        string pb = RegistryTestData.Write(_dir, "b.safetensors", b);
        Task<RegistryAddReport>[] adds =
        [
            Task.Run(() => ModelRegistry.Open(new LocalBlobStore(_store)).Add(pa, "race", parent: "base")),
            Task.Run(() => ModelRegistry.Open(new LocalBlobStore(_store)).Add(pb, "race", parent: "base")),
            Task.Run(() => ModelRegistry.Open(new LocalBlobStore(_store)).Add(pb, "other", parent: "base")),
        ];
        var outcomes = new List<string>();
        foreach (Task<RegistryAddReport> add in adds)
        {
            try
            {
                outcomes.Add((await add).Name);
            }
            catch (Z4AiRegistryException ex) when (ex.Kind == Z4AiErrorKind.Conflict)
            {
                outcomes.Add("conflict");
            }
        }

        Assert.That(outcomes.Count(o => o == "race"), Is.EqualTo(1));
        Assert.That(outcomes, Does.Contain("conflict").And.Contain("other"));
        string output = Path.Combine(_dir, "race.out");
        registry.Get("race", output);
        Assert.That(RegistryTestData.Sha(output), Is.AnyOf(RegistryTestData.Sha(pa), RegistryTestData.Sha(pb)));
        Assert.That(registry.Verify().Passed, Is.True);
        _ = files;
    }

    [Test]
    public void ProgressAndLogging_ReportEveryTensorAndTheVersion()
    {
        string basePath = RegistryTestData.Write(_dir, "base.safetensors", RegistryTestData.Base());
        var logger = new ListLogger();
        var reports = new List<ProgressInfo>();
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), basePath, "base", new RegistryOptions { Logger = logger }, new SyncProgress(reports.Add));
        Assert.That(reports, Has.Count.EqualTo(RegistryTestData.Base().Count));
        Assert.That(reports[^1].BytesDone, Is.EqualTo(reports[^1].BytesTotal));
        Assert.That(logger.Messages, Has.Some.Contains("Added version base"));
        reports.Clear();
        registry.Verify(progress: new SyncProgress(reports.Add));
        Assert.That(reports[^1].Stage, Is.EqualTo("verify"));
    }

    internal static string WriteIndex(string directory, IEnumerable<(string Tensor, string Shard)> map)
    {
        var sb = new System.Text.StringBuilder("{\n  \"metadata\": {\n    \"total_size\": 1\n  },\n  \"weight_map\": {\n");
        sb.AppendJoin(",\n", map.Select(p => $"    \"{p.Tensor}\": \"{p.Shard}\""));
        sb.Append("\n  }\n}");
        string path = Path.Combine(directory, "model.safetensors.index.json");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private (ModelRegistry Registry, Dictionary<string, string> Files) Family(IBlobStore? store = null)
    {
        Dictionary<string, Tensor> b = RegistryTestData.Base();
        Dictionary<string, Tensor> ft = RegistryTestData.FineTune(b, 0.05, 2);
        Dictionary<string, Tensor> ck = RegistryTestData.Checkpoint(ft, 3);
        var files = new Dictionary<string, string>
        {
            ["base"] = RegistryTestData.Write(_dir, "base.safetensors", b),
            ["ft"] = RegistryTestData.Write(_dir, "ft.safetensors", ft),
            ["ck"] = RegistryTestData.Write(_dir, "ck.safetensors", ck),
        };
        ModelRegistry registry = ModelRegistry.Init(store ?? new LocalBlobStore(_store), files["base"], "base");
        registry.Add(files["ft"], "ft");
        registry.Add(files["ck"], "ck");
        return (registry, files);
    }

    private Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(Path.Combine(_store, folder), "*", SearchOption.AllDirectories).ToDictionary(p => p, File.ReadAllBytes);

    private Manifest ReadManifest(string name) =>
        ManifestJson.Parse(File.ReadAllBytes(Path.Combine(_store, "manifests", name + ".json")), name, name);

    private string ObjectPath(Integrity.Sha256Digest id) => Path.Combine(_store, RegistryLayout.ObjectKey(id).Replace('/', Path.DirectorySeparatorChar));

    private string RootOfChain(Integrity.Sha256Digest id)
    {
        var objects = new ObjectStore(new StoreAccess(new LocalBlobStore(_store)));
        ObjectTable table = objects.ReadTable(id, "t");
        while (table.Kind == ObjectKind.Delta)
        {
            table = objects.ReadTable(table.Reference, "t");
        }

        return ObjectPath(table.Id);
    }

    private static int DepthOf(MemoryBlobStore store, string key) =>
        RegistryLayout.TryParseObjectKey(key, out Integrity.Sha256Digest id) ? new ObjectStore(new StoreAccess(store)).ReadTable(id, "t").Depth : -1;

    private sealed class SyncProgress(Action<ProgressInfo> report) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => report(value);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
