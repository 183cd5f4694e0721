using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Swift;

/// <summary>
/// The capability probe and the claim fallback against OpenStack Swift's S3 API, which does not honour conditional
/// PUT: the probe must find that out, the store must record it, and publishing must stay exactly-one-winner through
/// write-once claims.
/// </summary>
[NonParallelizable]
public sealed class SwiftTests
{
    private string _bucket = string.Empty;
    private string _dir = string.Empty;
    private AmazonS3Client _raw = null!;

    [OneTimeSetUp]
    public async Task CreateBucket()
    {
        SwiftServer.Require();
        _bucket = "z4ai-swift-" + Guid.NewGuid().ToString("N")[..8];
        _raw = S3ClientFactory.Create(SwiftServer.Options(), SwiftServer.Credentials);
        await _raw.PutBucketAsync(new PutBucketRequest { BucketName = _bucket });
    }

    [OneTimeTearDown]
    public async Task DeleteBucket()
    {
        if (_raw is null)
        {
            return;
        }

        try
        {
            string? token = null;
            do
            {
                ListObjectsV2Response page = await _raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, ContinuationToken = token });
                foreach (S3Object o in page.S3Objects ?? [])
                {
                    await _raw.DeleteObjectAsync(_bucket, o.Key);
                }

                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);
            await _raw.DeleteBucketAsync(_bucket);
        }
        finally
        {
            _raw.Dispose();
        }
    }

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-swift-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Probe_Swift_FindsNoConditionalCreateAndRecordsIt()
    {
        using S3BlobStore store = NewStore();
        S3ServerCapabilities probed = await store.EnsureCapabilitiesAsync();
        TestContext.Progress.WriteLine($"Swift probe: {probed}");
        Assert.Multiple(() =>
        {
            Assert.That(probed.FromRecord, Is.False);
            Assert.That(probed.ConditionalCreate, Is.False, probed.Notes);
            Assert.That(probed.UsesClaimFallback, Is.True);
            Assert.That(probed.RangedGet, Is.True, probed.Notes);
            Assert.That(store.Client.Capabilities.NeedsClaimFallback, Is.True);
        });

        using S3BlobStore later = NewStoreAt(store);
        S3ServerCapabilities loaded = await later.EnsureCapabilitiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(loaded.FromRecord, Is.True, "a second writer reads the record instead of probing");
            Assert.That(loaded with { FromRecord = false }, Is.EqualTo(probed with { ProbedAtUtc = loaded.ProbedAtUtc }));
            Assert.That(later.Client.Capabilities.NeedsClaimFallback, Is.True);
        });
    }

    [Test]
    public void TryCreate_ConditionalPutOnSwift_IsNotImplementedWhichIsWhyClaimsAreNeeded()
    {
        // What the probe detects: Swift's s3api (2.30) answers If-None-Match: * on PUT with 501 NotImplemented.
        using S3ObjectClient client = NewClient("raw");
        Assert.That(client.Capabilities.ConditionalCreate, Is.True, "not probed: assumes conditional PUT");
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.TryCreateAsync("manifests/a.json", Encoding.UTF8.GetBytes("first")));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.Rejected), ex.ToString());
            Assert.That(ex.StatusCode, Is.EqualTo(501));
            Assert.That(ex.Message, Does.Contain("does not implement"));
        });
    }

    [Test]
    public async Task TryCreate_RacingWritersOnSwift_ExactlyOneWinsThroughClaims()
    {
        const int Writers = 6;
        string prefix = "race-" + Guid.NewGuid().ToString("N")[..6];
        var clients = Enumerable.Range(0, Writers).Select(_ => S3ObjectClient.Create(SwiftServer.Options(), _bucket, prefix, SwiftServer.Credentials)).ToArray();
        try
        {
            await clients[0].ProbeAsync();
            foreach (S3ObjectClient c in clients)
            {
                c.Capabilities = clients[0].Capabilities;
                c.MaxClaimAttempts = 40;
            }

            Assert.That(clients[0].Capabilities.NeedsClaimFallback, Is.True, clients[0].Capabilities.Notes);
            using var start = new ManualResetEventSlim();
            Task<ConditionalWriteResult>[] tasks = [.. clients.Select((c, i) => Task.Run(() =>
            {
                start.Wait();
                return c.TryCreateAsync("manifests/v.json", Encoding.UTF8.GetBytes($"writer {i}"));
            }))];
            start.Set();
            ConditionalWriteResult[] results = await Task.WhenAll(tasks);
            int winner = Array.FindIndex(results, r => r.Succeeded);
            Assert.That(results.Count(r => r.Succeeded), Is.EqualTo(1));
            Assert.That(Encoding.UTF8.GetString(await clients[0].GetAsync("manifests/v.json", 100)), Is.EqualTo($"writer {winner}"));
            Assert.That(await clients[0].ListLogAsync(S3ClaimNames.ClaimFolder("manifests/v.json")), Is.Empty, "every claim is released");
        }
        finally
        {
            foreach (S3ObjectClient c in clients)
            {
                c.Dispose();
            }
        }
    }

    [Test]
    public async Task TryReplace_OnSwift_IsCompareAndSwapThroughClaims()
    {
        using S3ObjectClient client = NewClient("cas");
        await client.ProbeAsync();
        ConditionalWriteResult created = await client.TryCreateAsync("refs/head", Encoding.UTF8.GetBytes("v1"));
        Assert.That(created.Succeeded, Is.True);
        Assert.That((await client.TryReplaceAsync("refs/head", Encoding.UTF8.GetBytes("v2"), created.ETag!)).Succeeded, Is.True);
        Assert.That((await client.TryReplaceAsync("refs/head", Encoding.UTF8.GetBytes("v3"), created.ETag!)).Succeeded, Is.False);
        Assert.That((await client.TryCreateAsync("refs/head", Encoding.UTF8.GetBytes("v4"))).Succeeded, Is.False);
        Assert.That(Encoding.UTF8.GetString(await client.GetAsync("refs/head", 100)), Is.EqualTo("v2"));
    }

    [Test]
    public async Task AppendLogEntry_OnSwift_WriteOnceAndListedInOrder()
    {
        using S3ObjectClient client = NewClient("log");
        await client.ProbeAsync();
        var t0 = DateTimeOffset.UtcNow;
        string[] names = [.. Enumerable.Range(0, 4).Select(i => S3ClaimNames.NewEntryName(t0.AddMilliseconds(i)))];
        foreach (string name in names.Reverse())
        {
            await client.AppendLogEntryAsync("log/versions", name, Encoding.UTF8.GetBytes(name));
        }

        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.AppendLogEntryAsync("log/versions", names[1], Encoding.UTF8.GetBytes("again")));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.Conflict));
        IReadOnlyList<S3ObjectInfo> log = await client.ListLogAsync("log/versions");
        Assert.That(log.Select(e => e.Key), Is.EqualTo(names.Select(n => "log/versions/" + n)));
        Assert.That(Encoding.UTF8.GetString(await client.GetAsync(log[1].Key, 100)), Is.EqualTo(names[1]));
    }

    [Test]
    public async Task Registry_OnSwift_FamilyRestoresAndRacingAddsHaveOneWinner()
    {
        using S3BlobStore store = NewStore();
        await store.EnsureCapabilitiesAsync();
        Assert.That(store.Capabilities.UsesClaimFallback, Is.True, store.Capabilities.Notes);
        (ModelRegistry registry, Dictionary<string, string> files) = TestFamily.Create(store, _dir);
        foreach ((string name, string path) in files)
        {
            string output = Path.Combine(_dir, name + ".out");
            registry.Get(name, output);
            Assert.That(TestFamily.Sha(output), Is.EqualTo(TestFamily.Sha(path)), name);
        }

        Tensor norm = registry.GetTensor("base", "layers.1.norm.weight");
        Assert.That(norm.ToArray<float>(), Is.EqualTo(TestFamily.Base()["layers.1.norm.weight"].ToArray<float>()));

        string pa = TestFamily.Write(_dir, "a.safetensors", TestFamily.Checkpoint(TestFamily.Base(), 31));
        string pb = TestFamily.Write(_dir, "b.safetensors", TestFamily.Checkpoint(TestFamily.Base(), 32));
        string[] outcomes = await Task.WhenAll(new[] { pa, pb, pa, pb }.Select(p => Task.Run(async () =>
        {
            using S3BlobStore own = NewStoreAt(store);
            S3ServerCapabilities caps = await own.EnsureCapabilitiesAsync();
            Assert.That(caps.FromRecord && caps.UsesClaimFallback, Is.True);
            try
            {
                return ModelRegistry.Open(own).Add(p, "race", parent: "base").Name;
            }
            catch (Z4AiRegistryException ex) when (ex.Kind == Z4AiErrorKind.Conflict)
            {
                return "conflict";
            }
        })));
        Assert.That(outcomes.Count(o => o == "race"), Is.EqualTo(1), string.Join(",", outcomes));
        string raced = Path.Combine(_dir, "race.out");
        registry.Get("race", raced);
        Assert.That(TestFamily.Sha(raced), Is.AnyOf(TestFamily.Sha(pa), TestFamily.Sha(pb)));
        Assert.That(registry.Verify().Passed, Is.True);
    }

    private S3ObjectClient NewClient(string prefix) =>
        S3ObjectClient.Create(SwiftServer.Options(), _bucket, prefix + "-" + Guid.NewGuid().ToString("N")[..6], SwiftServer.Credentials);

    private S3BlobStore NewStore() =>
        S3BlobStore.Create(SwiftServer.Options(), _bucket, "reg-" + Guid.NewGuid().ToString("N")[..8], SwiftServer.Credentials);

    private static S3BlobStore NewStoreAt(S3BlobStore other) =>
        S3BlobStore.Create(SwiftServer.Options(), other.Client.Bucket, other.Client.Prefix, SwiftServer.Credentials);
}
