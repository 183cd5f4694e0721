using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

public sealed class StreamAndNameTests
{
    private static byte[] ReadAll(Stream s, int chunk)
    {
        var ms = new MemoryStream();
        byte[] buffer = new byte[chunk];
        int n;
        while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
        {
            ms.Write(buffer, 0, n);
        }

        return ms.ToArray();
    }

    [Test]
    public void VerifyingReadStream_Property_PassesExactBytesAndChecksAtEnd()
    {
        Gen<(byte[], int)> gen = from data in ArbMap.Default.GeneratorFor<byte>().ArrayOf() from chunk in Gen.Choose(1, 70) select (data, chunk);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            (byte[] data, int chunk) = t;
            string sha = Convert.ToHexStringLower(SHA256.HashData(data));
            using var ok = new VerifyingReadStream(new MemoryStream(data), null, data.Length, sha, "b", "k");
            return ReadAll(ok, chunk).AsSpan().SequenceEqual(data);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void VerifyingReadStream_WrongDigest_ThrowsIntegrityAtEnd()
    {
        byte[] data = [1, 2, 3];
        using var s = new VerifyingReadStream(new MemoryStream(data), null, 3, new string('0', 64), "bkt", "objects/x");
        var ex = Assert.Throws<Z4AiIntegrityException>(() => ReadAll(s, 2));
        Assert.That(ex!.Subject, Is.EqualTo("objects/x"));
    }

    [TestCase(2)]
    [TestCase(4)]
    public void VerifyingReadStream_WrongLength_ThrowsInvalidResponse(int announced)
    {
        using var s = new VerifyingReadStream(new MemoryStream([1, 2, 3]), null, announced, null, "bkt", "k");
        var ex = Assert.Throws<Z4AiS3Exception>(() => ReadAll(s, 1));
        Assert.That(ex!.Reason, Is.EqualTo(S3FailureReason.InvalidResponse));
    }

    [Test]
    public void ReadOnlySubStream_Property_ReadsWindowAndSeeks()
    {
        Gen<(byte[], int, int)> gen =
            from data in ArbMap.Default.GeneratorFor<byte>().ArrayOf()
            from a in Gen.Choose(0, 1000)
            from b in Gen.Choose(0, 1000)
            select (data, data.Length == 0 ? 0 : a % (data.Length + 1), b);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            (byte[] data, int start, int len) = t;
            len = Math.Min(len, data.Length - start);
            using var s = new ReadOnlySubStream(new MemoryStream(data), start, len);
            byte[] first = ReadAll(s, 7);
            s.Position = 0;
            byte[] again = ReadAll(s, 13);
            return s.Length == len && first.AsSpan().SequenceEqual(data.AsSpan(start, len)) && again.AsSpan().SequenceEqual(first);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public async Task UploadContent_FileAndMemory_AgreeOnDigestAndParts()
    {
        byte[] data = new byte[100_003];
        new Random(7).NextBytes(data);
        string path = Path.Combine(Path.GetTempPath(), $"z4ai-s3-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, data);
        try
        {
            S3UploadContent file = await S3UploadContent.FromFileAsync(path, default);
            S3UploadContent memory = S3UploadContent.FromMemory(data);
            Assert.That(file.Sha256, Is.EqualTo(memory.Sha256));
            Assert.That(file.Length, Is.EqualTo(data.Length));
            foreach ((long off, long len) in new[] { (0L, 0L), (0L, 1L), (99_999L, 4L), (65_536L, 34_467L) })
            {
                using Stream a = file.OpenRange(off, len);
                using Stream b = memory.OpenRange(off, len);
                Assert.That(ReadAll(a, 4096), Is.EqualTo(ReadAll(b, 999)).And.EqualTo(data.AsSpan((int)off, (int)len).ToArray()));
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => file.OpenRange(100_000, 4));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void EntryNames_SortByTimeAndAreUnique()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string[] names = [.. Enumerable.Range(0, 200).Select(i => S3ClaimNames.NewEntryName(t0.AddTicks(i * 1000)))];
        Assert.Multiple(() =>
        {
            Assert.That(names, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
            Assert.That(names.Distinct().Count(), Is.EqualTo(200));
            Assert.That(names, Has.All.Matches<string>(S3ClaimNames.IsValidEntryName));
            string same1 = S3ClaimNames.NewEntryName(t0), same2 = S3ClaimNames.NewEntryName(t0);
            Assert.That(same1, Is.Not.EqualTo(same2), "the random part separates writers in the same tick");
        });
    }

    [TestCase("")]
    [TestCase(".hidden")]
    [TestCase("a/b")]
    [TestCase("sp ace")]
    public void EntryNames_Invalid_AreRejected(string name) => Assert.That(S3ClaimNames.IsValidEntryName(name), Is.False);
}
