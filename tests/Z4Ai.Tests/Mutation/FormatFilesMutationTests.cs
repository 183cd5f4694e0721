using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The write path's two helpers, pinned: <see cref="AtomicFile"/> (temp name, commit renames, no commit leaves
/// nothing) and <see cref="CountingStream"/> (counts exactly what passed through, refuses everything else).
/// </summary>
public class FormatFilesMutationTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-atomic-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void AtomicFile_BeforeCommit_OnlyAHiddenTempFileExists()
    {
        string target = Path.Combine(_dir, "model.z4ai");
        using AtomicFile file = AtomicFile.Create(target);
        file.Stream.Write([1, 2, 3]);
        file.Stream.Flush();
        Assert.That(File.Exists(target), Is.False, "nothing under the final name before commit");
        string[] names = [.. Directory.GetFiles(_dir).Select(Path.GetFileName).Select(n => n!)];
        Assert.That(names, Has.Length.EqualTo(1));
        Assert.That(names[0], Does.Match(@"^\.model\.z4ai\.[0-9a-f]{32}\.tmp$"));
        Assert.That(new FileInfo(Path.Combine(_dir, names[0])).Length, Is.EqualTo(3), "the content goes to the temporary file");
    }

    [Test]
    public void AtomicFile_Commit_RenamesOverTheTargetAndLeavesNoTemp()
    {
        string target = Path.Combine(_dir, "out.bin");
        File.WriteAllBytes(target, [9, 9, 9, 9, 9]);
        using (AtomicFile file = AtomicFile.Create(target))
        {
            file.Stream.Write([4, 5]);
            file.Commit();
            Assert.Throws<ObjectDisposedException>(() => _ = file.Stream);
        }

        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 4, 5 }), "the old content is replaced whole");
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1));
    }

    [Test]
    public void AtomicFile_DisposedWithoutCommit_DeletesTheTempAndKeepsTheOldTarget()
    {
        string target = Path.Combine(_dir, "out.bin");
        File.WriteAllBytes(target, [7]);
        using (AtomicFile file = AtomicFile.Create(target))
        {
            file.Stream.Write(new byte[100_000]);
        }

        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 7 }));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1));
    }

    [Test]
    public void AtomicFile_MissingFolder_IsCreated()
    {
        string target = Path.Combine(_dir, "a", "b", "out.bin");
        using (AtomicFile file = AtomicFile.Create(target))
        {
            file.Stream.WriteByte(1);
            file.Commit();
        }

        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 1 }));
    }

    [Test]
    public void AtomicFile_DisposeTwice_AfterCommit_KeepsTheTarget()
    {
        string target = Path.Combine(_dir, "out.bin");
        AtomicFile file = AtomicFile.Create(target);
        file.Stream.WriteByte(3);
        file.Commit();
        file.Dispose();
        file.Dispose();
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 3 }));
    }

    [Test]
    public void CountingStream_CountsEveryWriteAndPassesTheBytesOn()
    {
        using var inner = new MemoryStream();
        using var counting = new CountingStream(inner);
        counting.Write([1, 2, 3, 4, 5], 1, 3);
        counting.Write((ReadOnlySpan<byte>)[6, 7]);
        counting.WriteByte(8);
        counting.Flush();
        Assert.That(counting.BytesWritten, Is.EqualTo(6));
        Assert.That(counting.Position, Is.EqualTo(6));
        Assert.That(inner.ToArray(), Is.EqualTo(new byte[] { 2, 3, 4, 6, 7, 8 }));
    }

    [Test]
    public void CountingStream_IsWriteOnlyAndUnseekable()
    {
        using var counting = new CountingStream(new MemoryStream());
        Assert.That(counting.CanWrite, Is.True);
        Assert.That(counting.CanRead, Is.False);
        Assert.That(counting.CanSeek, Is.False);
        Assert.Throws<NotSupportedException>(() => _ = counting.Length);
        Assert.Throws<NotSupportedException>(() => counting.Position = 0);
        Assert.That(() => counting.Read(new byte[1], 0, 1), Throws.TypeOf<NotSupportedException>());
        Assert.Throws<NotSupportedException>(() => counting.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => counting.SetLength(0));
    }

    [Test]
    public void CountingStream_Flush_ReachesTheInnerStream()
    {
        using var inner = new FlushCountingStream();
        using var counting = new CountingStream(inner);
        counting.Flush();
        Assert.That(inner.Flushes, Is.EqualTo(1));
    }

    private sealed class FlushCountingStream : MemoryStream
    {
        public int Flushes { get; private set; }

        public override void Flush()
        {
            Flushes++;
            base.Flush();
        }
    }
}
