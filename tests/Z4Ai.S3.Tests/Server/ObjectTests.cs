using System.Security.Cryptography;
using Amazon.S3.Model;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Server;

/// <summary>Immutable objects, reads, multipart, listing, delete and touch on the real server.</summary>
public sealed class ObjectTests : ServerTestBase
{
    [Test]
    public async Task PutImmutable_Twice_SecondIsANoOp()
    {
        using S3ObjectClient client = NewClient();
        byte[] data = RandomBytes(10_000, 1);
        var content = S3UploadContent.FromMemory(data);
        Assert.That(await client.PutImmutableAsync("objects/aa/one", content), Is.EqualTo(PutImmutableOutcome.Created));
        S3ObjectInfo? first = await client.HeadAsync("objects/aa/one");
        Assert.That(await client.PutImmutableAsync("objects/aa/one", content), Is.EqualTo(PutImmutableOutcome.AlreadyPresent));
        S3ObjectInfo? second = await client.HeadAsync("objects/aa/one");
        Assert.Multiple(() =>
        {
            Assert.That(first!.Length, Is.EqualTo(10_000));
            Assert.That(first.Sha256, Is.EqualTo(content.Sha256));
            Assert.That(second!.LastModifiedUtc, Is.EqualTo(first.LastModifiedUtc), "nothing was rewritten");
        });
    }

    [Test]
    public async Task PutImmutable_IdenticalBytesWithoutOurMetadata_IsAlreadyPresent()
    {
        using S3ObjectClient client = NewClient();
        byte[] data = RandomBytes(3000, 2);
        await Raw.PutObjectAsync(new PutObjectRequest { BucketName = BucketName, Key = "reg/objects/copied", InputStream = new MemoryStream(data), UseChunkEncoding = false });
        Assert.That(await client.PutImmutableAsync("objects/copied", S3UploadContent.FromMemory(data)), Is.EqualTo(PutImmutableOutcome.AlreadyPresent));
    }

    [TestCase(3000)]
    [TestCase(2999)]
    public async Task PutImmutable_ForeignObjectAtKey_ThrowsForeignObject(int foreignLength)
    {
        using S3ObjectClient client = NewClient();
        string key = $"objects/foreign-{foreignLength}";
        await Raw.PutObjectAsync(new PutObjectRequest { BucketName = BucketName, Key = "reg/" + key, InputStream = new MemoryStream(RandomBytes(foreignLength, 3)), UseChunkEncoding = false });
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.PutImmutableAsync(key, S3UploadContent.FromMemory(RandomBytes(3000, 4))));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.ForeignObject));
            Assert.That(ex.Key, Is.EqualTo("reg/" + key));
            Assert.That(ex.Message, Does.Contain("move it away"));
        });
    }

    [Test]
    public async Task Get_RoundTripsAndVerifies()
    {
        using S3ObjectClient client = NewClient();
        byte[] data = RandomBytes(70_001, 5);
        await client.PutImmutableAsync("objects/get", S3UploadContent.FromMemory(data));
        byte[] got = await client.GetAsync("objects/get", 1 << 20, Convert.ToHexStringLower(SHA256.HashData(data)));
        Assert.That(got, Is.EqualTo(data));
        await using Stream s = await client.OpenReadAsync("objects/get");
        var copy = new MemoryStream();
        await s.CopyToAsync(copy);
        Assert.That(copy.ToArray(), Is.EqualTo(data));
    }

    [Test]
    public async Task Get_BytesNotMatchingRecordedDigest_ThrowsIntegrity()
    {
        using S3ObjectClient client = NewClient();
        var request = new PutObjectRequest { BucketName = BucketName, Key = "reg/objects/damaged", InputStream = new MemoryStream(RandomBytes(500, 6)), UseChunkEncoding = false };
        request.Metadata.Add(S3ObjectClient.Sha256MetadataName, new string('a', 64));
        await Raw.PutObjectAsync(request);
        Assert.ThrowsAsync<Z4AiIntegrityException>(() => client.GetAsync("objects/damaged", 1000));
        await using Stream s = await client.OpenReadAsync("objects/damaged");
        Assert.ThrowsAsync<Z4AiIntegrityException>(() => s.CopyToAsync(Stream.Null));
    }

    [Test]
    public async Task Get_CallerDigestMismatch_ThrowsIntegrity()
    {
        using S3ObjectClient client = NewClient();
        await client.PutImmutableAsync("objects/expect", S3UploadContent.FromMemory(RandomBytes(100, 7)));
        Assert.ThrowsAsync<Z4AiIntegrityException>(() => client.GetAsync("objects/expect", 1000, new string('0', 64)));
    }

    [Test]
    public void Get_Missing_ThrowsObjectNotFound()
    {
        using S3ObjectClient client = NewClient();
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.GetAsync("objects/none", 10));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.ObjectNotFound));
    }

    [Test]
    public async Task ReadRange_ReadsExactlyTheWindow()
    {
        using S3ObjectClient client = NewClient();
        byte[] data = RandomBytes(100_000, 8);
        await client.PutImmutableAsync("objects/ranged", S3UploadContent.FromMemory(data));
        foreach ((long offset, int length, int expected) in new[]
        {
            (0L, 1, 1), (0L, 100_000, 100_000), (12_345L, 777, 777), (99_999L, 1, 1), (99_990L, 100, 10),
            (100_000L, 5, 0), (250_000L, 5, 0), (5L, 0, 0), (65_535L, 65_537, 34_465),
        })
        {
            byte[] buffer = new byte[length];
            int n = await client.ReadRangeAsync("objects/ranged", offset, buffer);
            Assert.That(n, Is.EqualTo(expected), $"offset {offset}, length {length}");
            Assert.That(buffer.AsSpan(0, n).SequenceEqual(data.AsSpan((int)Math.Min(offset, data.Length), n)), Is.True, $"bytes at {offset}");
        }
    }

    [Test]
    public void ReadRange_Missing_ThrowsObjectNotFound()
    {
        using S3ObjectClient client = NewClient();
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.ReadRangeAsync("objects/none", 0, new byte[4]));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.ObjectNotFound));
    }

    [Test]
    public async Task PutImmutable_TwentyMegabytes_GoesUpInPartsAndReadsBack()
    {
        var options = S3TestServer.Options();
        options.MultipartThreshold = 8L << 20;
        options.MultipartPartSize = 5L << 20;
        using S3ObjectClient client = NewClient(options: options);
        byte[] data = RandomBytes(20 << 20, 9);
        string path = Path.Combine(Path.GetTempPath(), $"z4ai-s3-mp-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, data);
        try
        {
            S3UploadContent content = await S3UploadContent.FromFileAsync(path, default);
            Assert.That(await client.PutImmutableAsync("objects/big", content), Is.EqualTo(PutImmutableOutcome.Created));
            S3ObjectInfo info = (await client.HeadAsync("objects/big"))!;
            Assert.Multiple(() =>
            {
                Assert.That(info.Length, Is.EqualTo(20 << 20));
                Assert.That(info.ETag, Does.EndWith("-4"), "four parts of 5 MiB");
                Assert.That(info.Sha256, Is.EqualTo(content.Sha256));
            });
            byte[] back = await client.GetAsync("objects/big", 32 << 20, content.Sha256);
            Assert.That(back.AsSpan().SequenceEqual(data), Is.True);
            byte[] window = new byte[1000];
            Assert.That(await client.ReadRangeAsync("objects/big", (5 << 20) - 500, window), Is.EqualTo(1000));
            Assert.That(window.AsSpan().SequenceEqual(data.AsSpan((5 << 20) - 500, 1000)), Is.True, "a range across a part boundary");
            Assert.That(await client.PutImmutableAsync("objects/big", content), Is.EqualTo(PutImmutableOutcome.AlreadyPresent));
            ListMultipartUploadsResponse uploads = await Raw.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = BucketName });
            Assert.That(uploads.MultipartUploads ?? [], Is.Empty, "no parts left behind");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task List_PaginatesAndFiltersByPrefix()
    {
        using S3ObjectClient client = NewClient("listing");
        client.ListPageSize = 7;
        var expected = new List<string>();
        for (int i = 0; i < 25; i++)
        {
            string key = $"objects/{i:D3}";
            expected.Add(key);
            await client.PutImmutableAsync(key, S3UploadContent.FromMemory(new[] { (byte)i }));
        }

        await client.PutImmutableAsync("manifests/v1.json", S3UploadContent.FromMemory(new byte[] { 1 }));
        var seen = new List<S3ObjectInfo>();
        await foreach (S3ObjectInfo o in client.ListAsync("objects/"))
        {
            seen.Add(o);
        }

        var all = new List<string>();
        await foreach (S3ObjectInfo o in client.ListAsync(string.Empty))
        {
            all.Add(o.Key);
        }

        Assert.Multiple(() =>
        {
            Assert.That(seen.Select(o => o.Key), Is.EqualTo(expected));
            Assert.That(seen, Has.All.Matches<S3ObjectInfo>(o => o.Length == 1 && o.LastModifiedUtc > DateTimeOffset.UtcNow.AddHours(-1)));
            Assert.That(all, Has.Count.EqualTo(26).And.Contains("manifests/v1.json"));
        });
    }

    [Test]
    public async Task Delete_ReportsWhetherItExisted()
    {
        using S3ObjectClient client = NewClient();
        await client.PutImmutableAsync("objects/del", S3UploadContent.FromMemory(new byte[] { 9 }));
        Assert.That(await client.DeleteAsync("objects/del"), Is.True);
        Assert.That(await client.DeleteAsync("objects/del"), Is.False);
        Assert.That(await client.HeadAsync("objects/del"), Is.Null);
    }

    [Test]
    public async Task Touch_AdvancesLastModifiedAndKeepsContentAndDigest()
    {
        using S3ObjectClient client = NewClient();
        byte[] data = RandomBytes(100, 10);
        var content = S3UploadContent.FromMemory(data);
        await client.PutImmutableAsync("objects/touch", content);
        S3ObjectInfo before = (await client.HeadAsync("objects/touch"))!;
        await Task.Delay(1100);
        Assert.That(await client.TouchAsync("objects/touch"), Is.True);
        S3ObjectInfo after = (await client.HeadAsync("objects/touch"))!;
        Assert.Multiple(() =>
        {
            Assert.That(after.LastModifiedUtc, Is.GreaterThan(before.LastModifiedUtc));
            Assert.That(after.Sha256, Is.EqualTo(content.Sha256));
        });
        Assert.That(await client.GetAsync("objects/touch", 1000), Is.EqualTo(data));
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.TouchAsync("objects/absent"));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.ObjectNotFound));
    }
}
