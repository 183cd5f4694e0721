using System.Net;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

/// <summary>The client against a scripted HTTP handler: what goes on the wire, retries and error mapping.</summary>
public sealed class S3ObjectClientFakeServerTests
{
    [Test]
    public async Task TryCreate_SendsIfNoneMatchStar_PlainSignedBody_PathStyle()
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Ok("abc123"));
        using S3ObjectClient client = FakeS3.Client(handler);
        ConditionalWriteResult r = await client.TryCreateAsync("manifests/v1.json", Encoding.UTF8.GetBytes("{}"));

        SeenRequest put = handler.Seen.Single();
        Assert.Multiple(() =>
        {
            Assert.That(r, Is.EqualTo(new ConditionalWriteResult(true, "abc123")), "ETag comes back unquoted");
            Assert.That(put.Method, Is.EqualTo(HttpMethod.Put));
            Assert.That(put.Uri.AbsolutePath, Is.EqualTo("/bucket-a/reg/manifests/v1.json"), "path-style addressing under the prefix");
            Assert.That(put.Headers["If-None-Match"], Is.EqualTo("*"));
            Assert.That(put.Body, Is.EqualTo(Encoding.UTF8.GetBytes("{}")));
            Assert.That(put.Headers.Keys.Where(k => k.StartsWith("x-amz-checksum", StringComparison.OrdinalIgnoreCase) || k.Equals("x-amz-trailer", StringComparison.OrdinalIgnoreCase)), Is.Empty, "no checksum headers or trailers");
            Assert.That(put.Headers.TryGetValue("Content-Encoding", out string? ce) ? ce : string.Empty, Does.Not.Contain("aws-chunked"));
            Assert.That(put.Headers["x-amz-content-sha256"], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(put.Body))), "payload signed whole, not streamed");
            Assert.That(put.Headers["x-amz-meta-z4ai-sha256"], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(put.Body))));
            Assert.That(put.Headers["Authorization"], Does.StartWith("AWS4-HMAC-SHA256 Credential=AKIDFAKE/").And.Contain("/us-east-1/s3/aws4_request"));
        });
    }

    [Test]
    public async Task TryCreate_PreconditionFailed_IsALostRaceNotAnError()
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed"));
        using S3ObjectClient client = FakeS3.Client(handler);
        ConditionalWriteResult r = await client.TryCreateAsync("manifests/v1.json", new byte[] { 1 });
        Assert.Multiple(() =>
        {
            Assert.That(r.Succeeded, Is.False);
            Assert.That(handler.Seen, Has.Count.EqualTo(1), "a lost race is not retried");
        });
    }

    [Test]
    public async Task TryReplace_SendsIfMatchUnquoted()
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Ok("new"));
        using S3ObjectClient client = FakeS3.Client(handler);
        ConditionalWriteResult r = await client.TryReplaceAsync("refs/main", new byte[] { 1, 2 }, "\"0ld3tag\"");
        Assert.Multiple(() =>
        {
            Assert.That(r.Succeeded, Is.True);
            Assert.That(handler.Seen.Single().Headers["If-Match"], Is.EqualTo("0ld3tag"));
        });
    }

    [Test]
    public async Task Get_ServiceUnavailableTwice_RetriesThenSucceeds()
    {
        byte[] body = Encoding.ASCII.GetBytes("hello");
        var handler = new FakeS3Handler((_, i) => i < 2 ? FakeS3Handler.Error(HttpStatusCode.ServiceUnavailable, "SlowDown") : FakeS3Handler.Ok(FakeS3Handler.Md5(body), body));
        using S3ObjectClient client = FakeS3.Client(handler);
        byte[] got = await client.GetAsync("objects/a", 100);
        Assert.Multiple(() =>
        {
            Assert.That(got, Is.EqualTo(body));
            Assert.That(handler.Seen, Has.Count.EqualTo(3));
        });
    }

    [Test]
    public void Get_AlwaysFailing_IsUnavailableAfterBoundedAttempts()
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Error(HttpStatusCode.InternalServerError, "InternalError"));
        using S3ObjectClient client = FakeS3.Client(handler, FakeS3.FastOptions(maxRetries: 2));
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.GetAsync("objects/a", 100));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.Unavailable));
            Assert.That(ex.Attempts, Is.EqualTo(3));
            Assert.That(handler.Seen, Has.Count.EqualTo(3));
            Assert.That(ex.Message, Does.Contain("s3://bucket-a/reg/objects/a").And.Contain("3 attempts"));
        });
    }

    [TestCase(HttpStatusCode.Forbidden, "AccessDenied", S3FailureReason.AccessDenied)]
    [TestCase(HttpStatusCode.Forbidden, "SignatureDoesNotMatch", S3FailureReason.AccessDenied)]
    [TestCase(HttpStatusCode.Forbidden, "InvalidAccessKeyId", S3FailureReason.AccessDenied)]
    [TestCase(HttpStatusCode.NotFound, "NoSuchBucket", S3FailureReason.NoSuchBucket)]
    [TestCase(HttpStatusCode.NotFound, "NoSuchKey", S3FailureReason.ObjectNotFound)]
    [TestCase(HttpStatusCode.BadRequest, "InvalidArgument", S3FailureReason.Rejected)]
    [TestCase(HttpStatusCode.NotImplemented, "NotImplemented", S3FailureReason.Rejected)]
    public void Get_PermanentError_MapsToReasonWithoutRetry(HttpStatusCode status, string code, S3FailureReason reason)
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Error(status, code));
        using S3ObjectClient client = FakeS3.Client(handler);
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.GetAsync("objects/a", 100));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(reason));
            Assert.That(ex.StatusCode, Is.EqualTo((int)status));
            Assert.That(ex.ErrorCode, Is.EqualTo(code));
            Assert.That(handler.Seen, Has.Count.EqualTo(1));
            Assert.That(ex.ToString(), Does.Not.Contain("fake-secret-key-never-logged"));
        });
    }

    [Test]
    public void Get_ConnectionRefusedEveryTime_IsUnavailable()
    {
        var handler = new FakeS3Handler((_, _) => throw new HttpRequestException("refused", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)));
        using S3ObjectClient client = FakeS3.Client(handler, FakeS3.FastOptions(maxRetries: 1));
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.GetAsync("objects/a", 100));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.Unavailable));
            Assert.That(handler.Seen, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public void Get_RecordedDigestMismatch_ThrowsIntegrity()
    {
        byte[] body = Encoding.ASCII.GetBytes("tampered");
        string recorded = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("original")));
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Ok(FakeS3Handler.Md5(body), body, r => r.Headers.TryAddWithoutValidation("x-amz-meta-z4ai-sha256", recorded)));
        using S3ObjectClient client = FakeS3.Client(handler);
        var ex = Assert.ThrowsAsync<Z4AiIntegrityException>(() => client.GetAsync("objects/a", 100));
        Assert.That(ex!.ExpectedDigest, Is.EqualTo(recorded));
    }

    [Test]
    public void Get_LargerThanAllowed_ThrowsBeforeReading()
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Ok(FakeS3Handler.Md5(new byte[64]), new byte[64]));
        using S3ObjectClient client = FakeS3.Client(handler);
        var ex = Assert.ThrowsAsync<Z4AiFormatException>(() => client.GetAsync("objects/a", 10));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
    }

    [Test]
    public async Task ReadRange_SendsInclusiveRangeHeader()
    {
        var handler = new FakeS3Handler((_, _) =>
        {
            var r = FakeS3Handler.Ok("e", [5, 6, 7]);
            r.StatusCode = HttpStatusCode.PartialContent;
            r.Content.Headers.TryAddWithoutValidation("Content-Range", "bytes 5-7/100");
            return r;
        });
        using S3ObjectClient client = FakeS3.Client(handler);
        byte[] buffer = new byte[3];
        int n = await client.ReadRangeAsync("objects/a", 5, buffer);
        Assert.Multiple(() =>
        {
            Assert.That(n, Is.EqualTo(3));
            Assert.That(buffer, Is.EqualTo(new byte[] { 5, 6, 7 }));
            Assert.That(handler.Seen.Single().Headers["Range"], Is.EqualTo("bytes=5-7"));
        });
    }

    [Test]
    public async Task ReadRange_ServerIgnoresRange_SkipsToOffset()
    {
        byte[] whole = Enumerable.Range(0, 20).Select(i => (byte)i).ToArray();
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Ok(FakeS3Handler.Md5(whole), whole));
        using S3ObjectClient client = FakeS3.Client(handler);
        byte[] buffer = new byte[8];
        int n = await client.ReadRangeAsync("objects/a", 15, buffer);
        Assert.Multiple(() =>
        {
            Assert.That(n, Is.EqualTo(5));
            Assert.That(buffer.AsSpan(0, 5).ToArray(), Is.EqualTo(new byte[] { 15, 16, 17, 18, 19 }));
        });
    }

    [Test]
    public void ReadRange_WrongContentRange_IsInvalidResponse()
    {
        var handler = new FakeS3Handler((_, _) =>
        {
            var r = FakeS3Handler.Ok("e", [1, 2, 3]);
            r.StatusCode = HttpStatusCode.PartialContent;
            r.Content.Headers.TryAddWithoutValidation("Content-Range", "bytes 0-2/100");
            return r;
        });
        using S3ObjectClient client = FakeS3.Client(handler);
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.ReadRangeAsync("objects/a", 5, new byte[3]));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.InvalidResponse));
    }

    [Test]
    public async Task ReadRange_PastEnd_ReturnsZero()
    {
        var handler = new FakeS3Handler((_, _) => FakeS3Handler.Error(HttpStatusCode.RequestedRangeNotSatisfiable, "InvalidRange"));
        using S3ObjectClient client = FakeS3.Client(handler);
        Assert.That(await client.ReadRangeAsync("objects/a", 500, new byte[3]), Is.Zero);
    }

    [Test]
    public async Task List_FollowsContinuationTokens()
    {
        static string Page(string[] keys, string? next) =>
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>bucket-a</Name><Prefix>reg/</Prefix>"
            + string.Concat(keys.Select(k => $"<Contents><Key>reg/{k}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>\"e\"</ETag><Size>3</Size></Contents>"))
            + $"<KeyCount>{keys.Length}</KeyCount><IsTruncated>{(next is null ? "false" : "true")}</IsTruncated>"
            + (next is null ? string.Empty : $"<NextContinuationToken>{next}</NextContinuationToken>") + "</ListBucketResult>";
        var handler = new FakeS3Handler((req, i) => FakeS3Handler.Ok(null, Encoding.UTF8.GetBytes(i switch
        {
            0 => Page(["a", "b"], "t1"),
            1 => Page(["c"], "t2"),
            _ => Page(["d"], null),
        })));
        using S3ObjectClient client = FakeS3.Client(handler);
        var keys = new List<string>();
        await foreach (S3ObjectInfo o in client.ListAsync(string.Empty))
        {
            keys.Add(o.Key);
        }

        Assert.Multiple(() =>
        {
            Assert.That(keys, Is.EqualTo(new[] { "a", "b", "c", "d" }));
            Assert.That(handler.Seen, Has.Count.EqualTo(3));
            Assert.That(handler.Seen[1].Uri.Query, Does.Contain("continuation-token=t1"));
            Assert.That(handler.Seen[2].Uri.Query, Does.Contain("continuation-token=t2"));
        });
    }

    [TestCase("")]
    [TestCase("/abs")]
    [TestCase("a//b")]
    [TestCase("caf\u00e9")]
    public void Keys_Invalid_ThrowArgumentException(string key)
    {
        using S3ObjectClient client = FakeS3.Client(new FakeS3Handler((_, _) => FakeS3Handler.Ok()));
        Assert.Throws<ArgumentException>(() => client.FullKey(key));
    }

    [TestCase("A")]
    [TestCase("ab")]
    [TestCase("under_score")]
    public void Bucket_Invalid_ThrowsArgumentException(string bucket) =>
        Assert.Throws<ArgumentException>(() => S3ObjectClient.ThrowIfInvalidBucket(bucket));

    [TestCase(null, "")]
    [TestCase("/", "")]
    [TestCase("team/models", "team/models/")]
    [TestCase("/team/", "team/")]
    public void NormalizePrefix_TrimsSlashes(string? prefix, string expected) =>
        Assert.That(S3ObjectClient.NormalizePrefix(prefix), Is.EqualTo(expected));
}
