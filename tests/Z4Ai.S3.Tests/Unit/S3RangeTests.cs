using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

public sealed class S3RangeTests
{
    [TestCase(0, 10, 100, 0, 9)]
    [TestCase(95, 10, 100, 95, 99)]
    [TestCase(99, 1, 100, 99, 99)]
    [TestCase(0, 1000, 1, 0, 0)]
    public void Clamp_InsideObject_ReturnsInclusiveRange(long offset, long length, long size, long first, long last) =>
        Assert.That(S3Range.Clamp(offset, length, size), Is.EqualTo((first, last)));

    [TestCase(0, 0, 100)]
    [TestCase(100, 5, 100)]
    [TestCase(500, 5, 100)]
    [TestCase(0, 5, 0)]
    public void Clamp_NothingToRead_ReturnsNull(long offset, long length, long size) =>
        Assert.That(S3Range.Clamp(offset, length, size), Is.Null);

    [Test]
    public void Clamp_Negative_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => S3Range.Clamp(-1, 1, 1));

    [Test]
    public void ForRequest_HugeLength_Saturates() =>
        Assert.That(S3Range.ForRequest(long.MaxValue - 1, long.MaxValue), Is.EqualTo((long.MaxValue - 1, long.MaxValue)));

    [Test]
    public void ToHeader_IsInclusive() => Assert.That(S3Range.ToHeader(3, 7), Is.EqualTo("bytes=3-7"));

    [TestCase("bytes 0-9/100", 0, 9, 100L)]
    [TestCase("bytes 5-5/6", 5, 5, 6L)]
    [TestCase("bytes 7-9/*", 7, 9, null)]
    public void TryParseContentRange_Valid_Parses(string value, long first, long last, long? total)
    {
        Assert.That(S3Range.TryParseContentRange(value, out long f, out long l, out long? t), Is.True);
        Assert.That((f, l, t), Is.EqualTo((first, last, total)));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("bytes 9-0/100")]
    [TestCase("bytes 0-9/9")]
    [TestCase("items 0-9/100")]
    [TestCase("bytes -9/100")]
    [TestCase("bytes 0-/100")]
    [TestCase("bytes 0-9")]
    [TestCase("bytes +1-9/100")]
    [TestCase("bytes 0-99999999999999999999/100")]
    public void TryParseContentRange_Malformed_ReturnsFalse(string? value) =>
        Assert.That(S3Range.TryParseContentRange(value, out _, out _, out _), Is.False);

    [Test]
    public void Clamp_Property_StaysInsideObjectAndRequest()
    {
        Gen<(long, long, long)> gen =
            from size in Gen.Choose(0, 5000)
            from offset in Gen.Choose(0, 6000)
            from length in Gen.Choose(0, 6000)
            select ((long)offset, (long)length, (long)size);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            (long offset, long length, long size) = t;
            var r = S3Range.Clamp(offset, length, size);
            if (r is null)
            {
                return length == 0 || offset >= size;
            }

            (long first, long last) = r.Value;
            long count = last - first + 1;
            return first == offset && last < size && count <= length && (count == length || last == size - 1)
                && S3Range.TryParseContentRange($"bytes {first}-{last}/{size}", out long f, out long l, out _) && f == first && l == last;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void PlanParts_Property_CoversLengthWithinPartLimit()
    {
        Gen<(long, long, int)> gen =
            from length in Gen.Choose(1, int.MaxValue)
            from part in Gen.Choose(1, 1 << 24)
            from max in Gen.Choose(1, 10_000)
            select ((long)length * 3, (long)part, max);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            (long length, long partSize, int maxParts) = t;
            (long size, int count) = S3Range.PlanParts(length, partSize, maxParts);
            return count <= maxParts && size >= partSize && (long)count * size >= length && (long)(count - 1) * size < length;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void PlanParts_TwentyMegabytesInFiveMegabyteParts_IsFourParts() =>
        Assert.That(S3Range.PlanParts(20L << 20, 5L << 20, 10_000), Is.EqualTo((5L << 20, 4)));
}
