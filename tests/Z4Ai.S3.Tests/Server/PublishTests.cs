using System.Text;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Server;

/// <summary>Conditional publishing, the capability probe and the claim fallback on the real server.</summary>
public sealed class PublishTests : ServerTestBase
{
    [Test]
    public async Task Probe_CephRgw_HonoursConditionalWritesAndRanges()
    {
        using S3ObjectClient client = NewClient("probe");
        S3Capabilities caps = await client.ProbeAsync();
        Assert.Multiple(() =>
        {
            Assert.That(caps.ConditionalCreate, Is.True, caps.Notes);
            Assert.That(caps.ConditionalReplace, Is.True, caps.Notes);
            Assert.That(caps.RangedGet, Is.True, caps.Notes);
            Assert.That(caps.NeedsClaimFallback, Is.False);
            Assert.That(client.Capabilities, Is.SameAs(caps));
        });
        var left = new List<string>();
        await foreach (S3ObjectInfo o in client.ListAsync(string.Empty))
        {
            left.Add(o.Key);
        }

        Assert.That(left, Is.Empty, "the probe cleans up after itself");
    }

    [Test]
    public async Task TryCreate_KeyTaken_LosesAndKeepsFirstContent()
    {
        using S3ObjectClient client = NewClient();
        Assert.That((await client.TryCreateAsync("manifests/a.json", Encoding.UTF8.GetBytes("first"))).Succeeded, Is.True);
        Assert.That((await client.TryCreateAsync("manifests/a.json", Encoding.UTF8.GetBytes("second"))).Succeeded, Is.False);
        Assert.That(Encoding.UTF8.GetString(await client.GetAsync("manifests/a.json", 100)), Is.EqualTo("first"));
    }

    [Test]
    public async Task TryReplace_CompareAndSwap_OnlyWithCurrentETag()
    {
        using S3ObjectClient client = NewClient();
        ConditionalWriteResult created = await client.TryCreateAsync("refs/head", Encoding.UTF8.GetBytes("v1"));
        ConditionalWriteResult swapped = await client.TryReplaceAsync("refs/head", Encoding.UTF8.GetBytes("v2"), created.ETag!);
        ConditionalWriteResult stale = await client.TryReplaceAsync("refs/head", Encoding.UTF8.GetBytes("v3"), created.ETag!);
        ConditionalWriteResult missing = await client.TryReplaceAsync("refs/none", Encoding.UTF8.GetBytes("v3"), created.ETag!);
        Assert.Multiple(() =>
        {
            Assert.That(swapped.Succeeded, Is.True);
            Assert.That(stale.Succeeded, Is.False);
            Assert.That(missing.Succeeded, Is.False);
        });
        Assert.That(Encoding.UTF8.GetString(await client.GetAsync("refs/head", 100)), Is.EqualTo("v2"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task TryCreate_RacingWriters_ExactlyOneWins(bool conditionalPut)
    {
        const int Writers = 8;
        string key = $"manifests/race-{conditionalPut}.json";
        var clients = Enumerable.Range(0, Writers).Select(_ => NewClient()).ToArray();
        try
        {
            foreach (S3ObjectClient c in clients)
            {
                // false: behave as on a server that ignores If-None-Match (Swift s3api) and publish through claims.
                c.Capabilities = conditionalPut ? S3Capabilities.Assumed : new S3Capabilities(false, false, true, DateTimeOffset.UtcNow, "forced");
                c.MaxClaimAttempts = 40;
            }

            using var start = new ManualResetEventSlim();
            Task<ConditionalWriteResult>[] tasks = [.. clients.Select((c, i) => Task.Run(() =>
            {
                start.Wait();
                return c.TryCreateAsync(key, Encoding.UTF8.GetBytes($"writer {i}"));
            }))];
            start.Set();
            ConditionalWriteResult[] results = await Task.WhenAll(tasks);

            int winner = Array.FindIndex(results, r => r.Succeeded);
            Assert.Multiple(() =>
            {
                Assert.That(results.Count(r => r.Succeeded), Is.EqualTo(1));
                Assert.That(winner, Is.GreaterThanOrEqualTo(0));
            });
            Assert.That(Encoding.UTF8.GetString(await clients[0].GetAsync(key, 100)), Is.EqualTo($"writer {winner}"));

            var claims = new List<string>();
            await foreach (S3ObjectInfo o in clients[0].ListAsync(S3ClaimNames.ClaimFolder(key)))
            {
                claims.Add(o.Key);
            }

            Assert.That(claims, Is.Empty, "every claim is released");
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
    public async Task TryReplace_ClaimFallback_IsCompareAndSwap()
    {
        using S3ObjectClient client = NewClient();
        client.Capabilities = new S3Capabilities(false, false, true, DateTimeOffset.UtcNow, "forced");
        ConditionalWriteResult created = await client.TryCreateAsync("refs/fallback", Encoding.UTF8.GetBytes("v1"));
        Assert.That(created.Succeeded, Is.True);
        Assert.That((await client.TryReplaceAsync("refs/fallback", Encoding.UTF8.GetBytes("v2"), created.ETag!)).Succeeded, Is.True);
        Assert.That((await client.TryReplaceAsync("refs/fallback", Encoding.UTF8.GetBytes("v3"), created.ETag!)).Succeeded, Is.False);
        Assert.That((await client.TryCreateAsync("refs/fallback", Encoding.UTF8.GetBytes("v4"))).Succeeded, Is.False);
        Assert.That(Encoding.UTF8.GetString(await client.GetAsync("refs/fallback", 100)), Is.EqualTo("v2"));
    }

    [Test]
    public async Task Claim_StaleClaimOfCrashedWriter_IsRemoved()
    {
        var options = S3TestServer.Options();
        options.ClaimStaleAfter = TimeSpan.FromSeconds(1);
        using S3ObjectClient client = NewClient(options: options);
        client.Capabilities = new S3Capabilities(false, false, true, DateTimeOffset.UtcNow, "forced");
        string crashed = S3ClaimNames.ClaimFolder("manifests/stale.json") + S3ClaimNames.NewEntryName(DateTimeOffset.UtcNow.AddHours(-1));
        await client.PutImmutableAsync(crashed, S3UploadContent.FromMemory(ReadOnlyMemory<byte>.Empty));
        await Task.Delay(2100);
        Assert.That((await client.TryCreateAsync("manifests/stale.json", Encoding.UTF8.GetBytes("x"))).Succeeded, Is.True);
        Assert.That(await client.HeadAsync(crashed), Is.Null);
    }

    [Test]
    public async Task Claim_LiveClaimOfAnotherWriter_EndsInConflict()
    {
        using S3ObjectClient client = NewClient();
        client.Capabilities = new S3Capabilities(false, false, true, DateTimeOffset.UtcNow, "forced");
        client.MaxClaimAttempts = 2;
        string other = S3ClaimNames.ClaimFolder("manifests/held.json") + S3ClaimNames.NewEntryName(DateTimeOffset.UtcNow);
        await client.PutImmutableAsync(other, S3UploadContent.FromMemory(ReadOnlyMemory<byte>.Empty));
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.TryCreateAsync("manifests/held.json", Encoding.UTF8.GetBytes("x")));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.Conflict));
        Assert.That(await client.HeadAsync("manifests/held.json"), Is.Null, "nothing half-published");
        IReadOnlyList<S3ObjectInfo> claims = await client.ListLogAsync(S3ClaimNames.ClaimFolder("manifests/held.json"));
        Assert.That(claims.Select(c => c.Key), Is.EqualTo(new[] { other }), "the loser released its own claims and left the live one");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task AppendLogEntry_WriteOnceAndListedInOrder(bool conditionalPut)
    {
        using S3ObjectClient client = NewClient($"log-{conditionalPut}");
        if (!conditionalPut)
        {
            client.Capabilities = new S3Capabilities(false, false, true, DateTimeOffset.UtcNow, "forced");
        }

        var t0 = DateTimeOffset.UtcNow;
        string[] names = [.. Enumerable.Range(0, 5).Select(i => S3ClaimNames.NewEntryName(t0.AddMilliseconds(i)))];
        foreach (string name in names.Reverse())
        {
            await client.AppendLogEntryAsync("log/versions", name, Encoding.UTF8.GetBytes(name));
        }

        await client.PutImmutableAsync("log/versions/nested/not-an-entry", S3UploadContent.FromMemory(new byte[] { 1 }));
        var ex = Assert.ThrowsAsync<Z4AiS3Exception>(() => client.AppendLogEntryAsync("log/versions", names[2], Encoding.UTF8.GetBytes("again")));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.Conflict));

        IReadOnlyList<S3ObjectInfo> log = await client.ListLogAsync("log/versions");
        Assert.That(log.Select(e => e.Key), Is.EqualTo(names.Select(n => "log/versions/" + n)));
        Assert.That(Encoding.UTF8.GetString(await client.GetAsync(log[2].Key, 100)), Is.EqualTo(names[2]), "the refused append left the entry unchanged");
    }
}
