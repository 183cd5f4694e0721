using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3.Model;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Server;

/// <summary>
/// The bad inputs on the real server, at the registry's level: a slow server, denied access, foreign objects
/// at Z4Ai keys, an object failing its digest after download. Each ends in a precise error and publishes nothing.
/// </summary>
public sealed class BadInputTests : ServerTestBase
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-s3-bad-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task SlowServer_NoAnswerWithinRequestTimeout_IsUnavailableAfterBoundedRetries()
    {
        // A server that accepts connections and reads requests but never answers.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var held = new List<TcpClient>();
        Task accepting = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    TcpClient c = await listener.AcceptTcpClientAsync(stop.Token);
                    lock (held)
                    {
                        held.Add(c);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        try
        {
            var options = S3TestServer.Options(maxRetries: 1);
            options.Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            options.RequestTimeout = TimeSpan.FromSeconds(1);
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            using S3BlobStore store = S3BlobStore.Create(options, BucketName, "slow", S3TestServer.Credentials);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ex = Assert.Throws<Z4AiS3Exception>(() => ModelRegistry.Open(store));
            TestContext.Progress.WriteLine(ex!.Message);
            Assert.Multiple(() =>
            {
                Assert.That(ex.Reason, Is.EqualTo(S3FailureReason.Unavailable), ex.ToString());
                Assert.That(ex.Attempts, Is.EqualTo(2));
                Assert.That(ex.Message, Does.Contain("did not answer within 1 s (the request timeout)"));
                Assert.That(ex.Message, Does.Contain("s3://" + BucketName + "/slow/registry.json"));
                Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "bounded by the timeout and the retries");
            });
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await accepting;
            lock (held)
            {
                held.ForEach(c => c.Dispose());
            }
        }
    }

    [Test]
    public void AccessDenied_OpeningARegistry_IsAccessDeniedWithoutTheSecret()
    {
        using S3BlobStore good = NewStore();
        _ = TestFamily.Create(good, _dir);
        using S3BlobStore denied = S3BlobStore.Create(S3TestServer.Options(), BucketName, good.Client.Prefix, new BasicAWSCredentials(S3TestServer.AccessKey, "not-the-secret-4711"));
        var ex = Assert.Throws<Z4AiS3Exception>(() => ModelRegistry.Open(denied));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.AccessDenied));
            Assert.That(ex.Message, Does.Contain("access denied").And.Contain("registry.json"));
            Assert.That(ex.ToString(), Does.Not.Contain("not-the-secret-4711"));
        });
    }

    [Test]
    public async Task ForeignObjectAtAnObjectKey_AddReplacesItAndTheVersionRestores()
    {
        using S3BlobStore store = NewStore();
        string basePath = TestFamily.Write(_dir, "base.safetensors", TestFamily.Base());
        ModelRegistry registry = ModelRegistry.Init(store, basePath, "base");

        // A new version whose tensors would go to keys that another tool has already filled. Which keys will the add
        // create? Add the same version to a scratch registry with the same base and see.
        string next = TestFamily.Write(_dir, "next.safetensors", TestFamily.Checkpoint(TestFamily.Base(), 77));
        List<string> before = await Keys(store, "objects/");
        using S3BlobStore scratch = NewStore();
        ModelRegistry.Init(scratch, basePath, "base").Add(next, "next", parent: "base");
        List<string> created = (await Keys(scratch, "objects/")).Except(before).ToList();
        Assert.That(created, Is.Not.Empty);
        foreach (string target in created)
        {
            await Raw.PutObjectAsync(new PutObjectRequest { BucketName = BucketName, Key = store.Client.Prefix + target, ContentBody = "not a z4ai object", UseChunkEncoding = false });
        }

        // The engine reads each existing object's tail before reusing it; a foreign one fails that check, is removed
        // and the tensor stored afresh (the clean retry), so the version is complete when its manifest appears.
        registry.Add(next, "next", parent: "base");
        string output = Path.Combine(_dir, "next.out");
        using (S3BlobStore reader = NewStoreAt(store))
        {
            ModelRegistry.Open(reader).Get("next", output);
        }

        Assert.That(TestFamily.Sha(output), Is.EqualTo(TestFamily.Sha(next)));
        foreach (string target in created)
        {
            S3ObjectInfo info = (await store.Client.HeadAsync(target))!;
            Assert.That(info.Sha256, Is.Not.Null, $"{target} now holds an object Z4Ai wrote");
        }
    }

    [Test]
    public async Task ForeignObjectAtAKey_PutIfAbsentRefusesItPrecisely()
    {
        using S3BlobStore store = NewStore();
        await Raw.PutObjectAsync(new PutObjectRequest { BucketName = BucketName, Key = store.Client.Prefix + "objects/ab/foreign", ContentBody = "foreign bytes", UseChunkEncoding = false });
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(async () => await store.PutIfAbsentAsync("objects/ab/foreign", (s, ct) => s.WriteAsync("z4ai bytes!!!"u8.ToArray(), ct)));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.ForeignObject));
            Assert.That(ex.Message, Does.Contain(store.Client.Prefix + "objects/ab/foreign").And.Contain("did not write"));
        });

        // The same bytes without Z4Ai's digest record are accepted as present, as after a copy by another tool.
        Assert.That(await store.PutIfAbsentAsync("objects/ab/foreign", (s, ct) => s.WriteAsync("foreign bytes"u8.ToArray(), ct)), Is.False);
        Assert.That(System.Text.Encoding.UTF8.GetString(await store.Client.GetAsync("objects/ab/foreign", 100)), Is.EqualTo("foreign bytes"));
    }

    [Test]
    public async Task ForeignObjectAtAManifestKey_IsAFormatErrorNamingTheVersion()
    {
        using S3BlobStore store = NewStore();
        (ModelRegistry registry, _) = TestFamily.Create(store, _dir);
        await Raw.PutObjectAsync(new PutObjectRequest { BucketName = BucketName, Key = store.Client.Prefix + "manifests/intruder.json", ContentBody = "{\"hello\": 1}", UseChunkEncoding = false });
        var ex = Assert.Throws(Is.InstanceOf<Z4AiException>(), () => registry.Get("intruder", Path.Combine(_dir, "intruder.out")));
        TestContext.Progress.WriteLine(ex!.Message);
        Assert.That(ex.Message, Does.Contain("intruder"));
        Assert.That(File.Exists(Path.Combine(_dir, "intruder.out")), Is.False, "no output from a foreign manifest");
    }

    [Test]
    public async Task ObjectFailingItsDigestAfterDownload_IsAnIntegrityErrorAndNoOutput()
    {
        using S3BlobStore store = NewStore();
        (ModelRegistry registry, _) = TestFamily.Create(store, _dir);

        // Damage one stored object in place, keeping its length and its recorded digest: only the bytes differ.
        string victim = (await Keys(store, "objects/")).OrderBy(k => k, StringComparer.Ordinal).First();
        S3ObjectInfo info = (await store.Client.HeadAsync(victim))!;
        byte[] bytes = await store.Client.GetAsync(victim, info.Length);
        bytes[bytes.Length / 2] ^= 0x5a;
        var put = new PutObjectRequest { BucketName = BucketName, Key = store.Client.Prefix + victim, InputStream = new MemoryStream(bytes), UseChunkEncoding = false };
        put.Metadata.Add(S3ObjectClient.Sha256MetadataName, info.Sha256);
        await Raw.PutObjectAsync(put);

        using S3BlobStore reader = NewStoreAt(store);
        ModelRegistry again = ModelRegistry.Open(reader);
        int failed = 0;
        foreach (string name in new[] { "base", "ft", "ck" })
        {
            string output = Path.Combine(_dir, name + ".damaged.out");
            try
            {
                again.Get(name, output);
            }
            catch (Z4AiException ex)
            {
                failed++;
                TestContext.Progress.WriteLine($"{name}: {ex.GetType().Name}: {ex.Message}");
                Assert.That(ex, Is.InstanceOf<Z4AiIntegrityException>().Or.InstanceOf<Z4AiFormatException>(), ex.ToString());
                Assert.That(File.Exists(output), Is.False, "no partial output");
            }
        }

        Assert.That(failed, Is.GreaterThan(0), "at least the version holding the damaged object fails");
        Assert.That(again.Verify().Passed, Is.False);
    }

    private static async Task<List<string>> Keys(S3BlobStore store, string prefix)
    {
        List<string> keys = [];
        await foreach (BlobInfo b in store.ListAsync(prefix))
        {
            keys.Add(b.Key);
        }

        return keys;
    }

    private S3BlobStore NewStore() =>
        S3BlobStore.Create(S3TestServer.Options(), BucketName, "bad-" + Guid.NewGuid().ToString("N")[..8], S3TestServer.Credentials);

    private static S3BlobStore NewStoreAt(S3BlobStore other) =>
        S3BlobStore.Create(S3TestServer.Options(), other.Client.Bucket, other.Client.Prefix, S3TestServer.Credentials);
}
