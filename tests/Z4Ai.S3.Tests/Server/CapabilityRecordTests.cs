using System.Text;
using Amazon.S3.Model;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Server;

/// <summary>The persisted capability probe on the real server: probed once, read back, re-probed when stale or asked.</summary>
public sealed class CapabilityRecordTests : ServerTestBase
{
    [Test]
    public async Task EnsureCapabilities_FirstProbesAndRecords_ThenOthersReadTheRecord()
    {
        using S3BlobStore first = NewStore();
        S3ServerCapabilities probed = await first.EnsureCapabilitiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(probed.FromRecord, Is.False);
            Assert.That(probed.ConditionalCreate && probed.ConditionalReplace && probed.RangedGet, Is.True, probed.Notes);
        });
        Assert.That(await first.Client.HeadAsync(S3CapabilityRecord.Key), Is.Not.Null);

        using S3BlobStore second = NewStoreAt(first);
        S3ServerCapabilities loaded = await second.EnsureCapabilitiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(loaded.FromRecord, Is.True);
            Assert.That(loaded.ProbedAtUtc, Is.EqualTo(probed.ProbedAtUtc));
            Assert.That(loaded.Notes, Is.EqualTo(probed.Notes));
        });
        Assert.That(await Keys(second), Is.Empty, "neither the record nor probe objects are registry blobs");
    }

    [Test]
    public async Task EnsureCapabilities_RecordSaysNoConditionalPut_PublishesThroughClaims()
    {
        // As recorded against Swift: the store must publish through claims without probing again.
        using S3BlobStore store = NewStore();
        var swiftLike = new S3Capabilities(false, false, true, DateTimeOffset.UtcNow, "create unsupported (501 NotImplemented)");
        await store.Client.PutRecordAsync(S3CapabilityRecord.Key, S3CapabilityRecord.Serialize(swiftLike, S3TestServer.Endpoint.ToString().TrimEnd('/')));
        S3ServerCapabilities loaded = await store.EnsureCapabilitiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(loaded.FromRecord, Is.True);
            Assert.That(loaded.UsesClaimFallback, Is.True);
            Assert.That(store.Client.Capabilities.NeedsClaimFallback, Is.True);
        });
        Assert.That(await store.PutIfAbsentAsync("manifests/v.json", (s, ct) => s.WriteAsync("{}"u8.ToArray(), ct)), Is.True);
        Assert.That(await store.PutIfAbsentAsync("manifests/v.json", (s, ct) => s.WriteAsync("[]"u8.ToArray(), ct)), Is.False);

        S3ServerCapabilities reprobed = await store.EnsureCapabilitiesAsync(reprobe: true);
        Assert.Multiple(() =>
        {
            Assert.That(reprobed.FromRecord, Is.False, "asked to re-probe");
            Assert.That(reprobed.UsesClaimFallback, Is.False, "Ceph RGW honours conditional PUT");
        });
        Assert.That(S3CapabilityRecord.TryParse(await store.Client.GetAsync(S3CapabilityRecord.Key, 4096))!.Value.Capabilities.ConditionalCreate, Is.True, "the record was replaced");
    }

    [Test]
    public async Task EnsureCapabilities_StaleRecord_IsReprobed()
    {
        using S3BlobStore store = NewStore();
        var old = new S3Capabilities(false, false, false, DateTimeOffset.UtcNow.AddDays(-30), "old");
        await store.Client.PutRecordAsync(S3CapabilityRecord.Key, S3CapabilityRecord.Serialize(old, S3TestServer.Endpoint.ToString().TrimEnd('/')));
        S3ServerCapabilities now = await store.EnsureCapabilitiesAsync();
        Assert.Multiple(() =>
        {
            Assert.That(now.FromRecord, Is.False);
            Assert.That(now.ConditionalCreate, Is.True);
            Assert.That(now.ProbedAtUtc, Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5)));
        });
    }

    [TestCase("not json at all")]
    [TestCase("{\"format\":\"something-else\",\"version\":1}")]
    public async Task EnsureCapabilities_RecordThatIsNotOne_IsReplacedByAProbe(string content)
    {
        using S3BlobStore store = NewStore();
        await Raw.PutObjectAsync(new PutObjectRequest { BucketName = BucketName, Key = store.Client.Prefix + S3CapabilityRecord.Key, ContentBody = content, UseChunkEncoding = false });
        S3ServerCapabilities now = await store.EnsureCapabilitiesAsync();
        Assert.That(now.FromRecord, Is.False);
        Assert.That(Encoding.UTF8.GetString(await store.Client.GetAsync(S3CapabilityRecord.Key, 4096)), Does.Contain("z4ai-s3-capabilities"));
    }

    private static async Task<List<string>> Keys(S3BlobStore store)
    {
        List<string> keys = [];
        await foreach (BlobInfo b in store.ListAsync(string.Empty))
        {
            keys.Add(b.Key);
        }

        return keys;
    }

    private S3BlobStore NewStore() =>
        S3BlobStore.Create(S3TestServer.Options(), BucketName, "caps-" + Guid.NewGuid().ToString("N")[..8], S3TestServer.Credentials);

    private static S3BlobStore NewStoreAt(S3BlobStore other) =>
        S3BlobStore.Create(S3TestServer.Options(), other.Client.Bucket, other.Client.Prefix, S3TestServer.Credentials);
}
