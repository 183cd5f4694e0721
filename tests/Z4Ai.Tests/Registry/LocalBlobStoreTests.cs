using NUnit.Framework;

namespace Z4Ai.Tests.Registry;

public class LocalBlobStoreTests
{
    private string _dir = null!;
    private LocalBlobStore _store = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = RegistryTestData.TempDirectory();
        _store = new LocalBlobStore(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task PutIfAbsent_SecondPutOfTheSameKey_ReturnsFalseAndKeepsTheFirst()
    {
        Assert.That(await Put("objects/ab/one", [1, 2, 3]), Is.True);
        Assert.That(await Put("objects/ab/one", [9, 9]), Is.False);
        Assert.That(await ReadAll("objects/ab/one"), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "tmp")), Is.Empty, "no temporary file is left behind");
    }

    [Test]
    public async Task PutIfAbsent_WriterThrows_CreatesNothing()
    {
        Assert.ThrowsAsync<InvalidOperationException>(async () => await _store.PutIfAbsentAsync("manifests/v1.json", async (s, ct) =>
        {
            await s.WriteAsync(new byte[100], ct);
            throw new InvalidOperationException("disk on fire");
        }));
        Assert.That(await _store.GetInfoAsync("manifests/v1.json"), Is.Null);
        Assert.That(Directory.GetFiles(Path.Combine(_dir, "tmp")), Is.Empty);
    }

    [Test]
    public async Task PutIfAbsent_ManyConcurrentWritersOfOneKey_ExactlyOneWins()
    {
        Task<bool>[] writers = Enumerable.Range(0, 8).Select(i => Task.Run(async () => await Put("manifests/race.json", Enumerable.Repeat((byte)i, 10_000).ToArray()))).ToArray();
        bool[] results = await Task.WhenAll(writers);
        Assert.That(results.Count(r => r), Is.EqualTo(1));
        byte[] data = await ReadAll("manifests/race.json");
        Assert.That(data, Has.Length.EqualTo(10_000));
        Assert.That(data.Distinct().Count(), Is.EqualTo(1), "the winner's content, whole");
    }

    [Test]
    public async Task ReadAsync_Ranges_ReturnExactBytesAndShortAtTheEnd()
    {
        byte[] content = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await Put("objects/x", content);
        byte[] buffer = new byte[100];
        Assert.That(await _store.ReadAsync("objects/x", 950, buffer), Is.EqualTo(50));
        Assert.That(buffer[..50], Is.EqualTo(content[950..]));
        Assert.That(await _store.ReadAsync("objects/x", 2000, buffer), Is.EqualTo(0));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await _store.ReadAsync("objects/missing", 0, buffer));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await _store.OpenReadAsync("objects/missing"));
    }

    [Test]
    public async Task ListDeleteTouch_BehaveAsDocumented()
    {
        await Put("objects/aa/1", [1]);
        await Put("objects/bb/2", [2, 2]);
        await Put("manifests/v.json", [3]);
        string[] objects = (await Collect("objects/")).Select(b => b.Key).Order(StringComparer.Ordinal).ToArray();
        Assert.That(objects, Is.EqualTo(new[] { "objects/aa/1", "objects/bb/2" }));
        Assert.That(await Collect("objects/a"), Has.Count.EqualTo(1));
        Assert.That(await Collect("nothing/"), Is.Empty);

        File.SetLastWriteTimeUtc(Path.Combine(_dir, "objects", "aa", "1"), DateTime.UtcNow.AddDays(-3));
        BlobInfo? old = await _store.GetInfoAsync("objects/aa/1");
        Assert.That(old!.LastModifiedUtc, Is.LessThan(DateTimeOffset.UtcNow.AddDays(-2)));
        await _store.TouchAsync("objects/aa/1");
        BlobInfo? touched = await _store.GetInfoAsync("objects/aa/1");
        Assert.That(touched!.LastModifiedUtc, Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(-1)));
        Assert.ThrowsAsync<KeyNotFoundException>(async () => await _store.TouchAsync("objects/none"));

        Assert.That(await _store.DeleteAsync("objects/aa/1"), Is.True);
        Assert.That(await _store.DeleteAsync("objects/aa/1"), Is.False);
    }

    [TestCase("")]
    [TestCase("/a")]
    [TestCase("a//b")]
    [TestCase("a/../b")]
    [TestCase("a/.hidden")]
    [TestCase("a\\b")]
    [TestCase("a/b c")]
    [TestCase("ä")]
    public void Keys_Invalid_AreRejectedAsArguments(string key)
    {
        Assert.ThrowsAsync<ArgumentException>(async () => await _store.GetInfoAsync(key));
        Assert.ThrowsAsync<ArgumentException>(async () => await _store.PutIfAbsentAsync(key, (s, ct) => ValueTask.CompletedTask));
    }

    [Test]
    public async Task Locks_SharedWithSharedCoexist_ExclusiveExcludesBoth()
    {
        IAsyncDisposable? a = await _store.TryLockAsync("registry", exclusive: false);
        IAsyncDisposable? b = await _store.TryLockAsync("registry", exclusive: false);
        Assert.That(a, Is.Not.Null);
        Assert.That(b, Is.Not.Null);
        Assert.That(await _store.TryLockAsync("registry", exclusive: true), Is.Null);
        await a!.DisposeAsync();
        Assert.That(await _store.TryLockAsync("registry", exclusive: true), Is.Null);
        await b!.DisposeAsync();
        IAsyncDisposable? x = await _store.TryLockAsync("registry", exclusive: true);
        Assert.That(x, Is.Not.Null);
        Assert.That(await _store.TryLockAsync("registry", exclusive: false), Is.Null);
        Assert.That(await _store.TryLockAsync("other", exclusive: true), Is.Not.Null.And.InstanceOf<IAsyncDisposable>());
        await x!.DisposeAsync();
        Assert.That(await _store.TryLockAsync("registry", exclusive: false), Is.Not.Null);
    }

    private async Task<bool> Put(string key, byte[] content) =>
        await _store.PutIfAbsentAsync(key, (stream, ct) => stream.WriteAsync(content, ct));

    private async Task<byte[]> ReadAll(string key)
    {
        await using Stream stream = await _store.OpenReadAsync(key);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private async Task<List<BlobInfo>> Collect(string prefix)
    {
        var list = new List<BlobInfo>();
        await foreach (BlobInfo blob in _store.ListAsync(prefix))
        {
            list.Add(blob);
        }

        return list;
    }
}
