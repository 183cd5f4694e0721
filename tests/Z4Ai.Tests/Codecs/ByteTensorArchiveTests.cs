using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// U8/I8 tensors (quantised weights) at <see cref="CompressionEffort.Default"/>: the archival model is tried on their
/// raw bytes from 256 bytes to 64 KiB and kept only where it is the smallest leaf.
/// </summary>
public class ByteTensorArchiveTests
{
    // Quantised weights: uint8 codes around a zero point, a bell-shaped histogram over about 200 values.
    private static byte[] QuantisedCodes(int count, int seed)
    {
        var rng = new Random(seed);
        byte[] codes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            codes[i] = (byte)Math.Clamp((int)Math.Round(128 + (30 * CodecSamples.Gaussian(rng))), 0, 255);
        }

        return codes;
    }

    // Short tensors: an rANS table costs a good part of what it saves there, the adaptive model nothing. (On 64 KiB
    // of i.i.d. codes order-0 rANS is at the bound and stays, as it should.)
    [TestCase(DType.U8, 576)]
    [TestCase(DType.I8, 4096)]
    public void Encode_QuantisedBytesAtDefault_KeepsTheArchiveLeafSmallerThanBeforeAndRoundTrips(DType dtype, int count)
    {
        byte[] raw = QuantisedCodes(count, count);
        byte[] frame = CodecSamples.Encode(raw, dtype, CompressionEffort.Default, 0);
        byte[] asFloat8 = CodecSamples.Encode(raw, DType.F8_E5M2, CompressionEffort.Default, 0); // the same bytes, no archival model
        Assert.Multiple(() =>
        {
            Assert.That(CodecSamples.Recipe(frame), Does.Contain("archive-cm"));
            Assert.That(CodecSamples.Recipe(asFloat8), Does.Not.Contain("archive-cm"));
            Assert.That(frame, Has.Length.LessThan(asFloat8.Length));
            Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw));
        });
    }

    [TestCase(255)]
    [TestCase(64 * 1024 + 1)]
    public void Encode_BytesOutsideTheDefaultRange_DoNotUseTheArchiveLeaf(int count)
    {
        byte[] raw = QuantisedCodes(count, 3);
        Assert.That(CodecSamples.Recipe(CodecSamples.Encode(raw, DType.U8, CompressionEffort.Default, 0)), Does.Not.Contain("archive-cm"));
    }

    [Test]
    public void Encode_AnyByteTensorAtDefault_RoundTripsAndNeverExpandsPastTheHeader()
    {
        Arbitrary<(byte[] Raw, bool Signed)> cases =
            (from length in Gen.Choose(0, 3000)
             from spread in Gen.Choose(0, 8)
             from seed in Gen.Choose(0, int.MaxValue)
             from signed in Gen.Elements(true, false)
             select (Sample(length, spread, seed), signed)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            DType dtype = c.Signed ? DType.I8 : DType.U8;
            byte[] frame = CodecSamples.Encode(c.Raw, dtype, CompressionEffort.Default, 0);
            return frame.Length <= c.Raw.Length + TensorCodec.MaxHeaderLength
                && CodecSamples.Decode(frame, c.Raw.Length).AsSpan().SequenceEqual(c.Raw);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    // Bytes from constant (spread 0) to uniform noise (spread 8), the range quantised tensors fall in.
    private static byte[] Sample(int length, int spread, int seed)
    {
        var rng = new Random(seed);
        byte[] bytes = new byte[length];
        int mask = (1 << spread) - 1;
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(100 + (rng.Next(mask + 1) & mask));
        }

        return bytes;
    }
}
