using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Tests.Codecs;
using Z4Ai.Tests.Transforms;

namespace Z4Ai.Tests.Archival;

/// <summary>
/// The archival model inside the tensor codec (<see cref="CompressionEffort.Archive"/>): it is kept only where it
/// wins, round-trips, refuses a leaf written by a model this library lacks, and its leaf bytes are pinned.
/// </summary>
public class ArchiveStreamsTests
{
    [Test]
    public void Encode_TextBytesAtArchiveEffort_KeepsTheArchiveLeafAndRoundTrips()
    {
        // A one-byte dtype that is not an integer tensor: U8/I8 tensors get the archival model at Default and Max too.
        byte[] raw = ArchiveTestData.Words(16_384, 7);
        byte[] max = CodecSamples.Encode(raw, DType.F8_E5M2, CompressionEffort.Max, 0);
        byte[] archive = CodecSamples.Encode(raw, DType.F8_E5M2, CompressionEffort.Archive, 0);
        Assert.Multiple(() =>
        {
            Assert.That(CodecSamples.Recipe(archive), Does.Contain("archive-cm"));
            Assert.That(CodecSamples.Recipe(max), Does.Not.Contain("archive-cm"));
            Assert.That(archive, Has.Length.LessThan(max.Length));
            Assert.That(CodecSamples.Decode(archive, raw.Length), Is.EqualTo(raw));
        });
    }

    [Test]
    public void Encode_Bf16WeightsAtArchiveEffort_IsNeverLargerThanMaxAndRoundTrips()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(32 * CodecSamples.Columns, new Random(11)));
        byte[] max = CodecSamples.Encode(raw, DType.BF16, CompressionEffort.Max);
        byte[] archive = CodecSamples.Encode(raw, DType.BF16, CompressionEffort.Archive);
        Assert.Multiple(() =>
        {
            Assert.That(archive, Has.Length.LessThanOrEqualTo(max.Length));
            Assert.That(CodecSamples.Decode(archive, raw.Length), Is.EqualTo(raw));
        });
    }

    [Test]
    public void Encode_AnyStructuredInputAtArchiveEffort_RoundTripsWithinTheHeaderBound()
    {
        Prop.ForAll(TransformSamples.Structured(400), sample =>
        {
            byte[] frame = CodecSamples.Encode(sample.Raw, sample.DType, CompressionEffort.Archive, sample.Shape.Length >= 2 ? (int)sample.Shape[^1] : 0);
            return frame.Length <= sample.Raw.Length + TensorCodec.MaxHeaderLength
                && CodecSamples.Decode(frame, sample.Raw.Length).AsSpan().SequenceEqual(sample.Raw);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    [Test]
    public void TryEncode_StreamShorterThanTheMinimum_WritesNothing()
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        byte[] raw = ArchiveTestData.Words(ArchiveStreams.MinLength - 1, 3);
        Assert.Multiple(() =>
        {
            Assert.That(ArchiveStreams.TryEncode(raw, raw.Length, writer), Is.Zero);
            Assert.That(writer.WrittenCount, Is.Zero);
        });
    }

    [Test]
    public void Decode_LeafOfAnUnknownModelVersion_ThrowsUnsupportedVersion()
    {
        byte[] leaf = Leaf(ArchiveTestData.Words(4096, 5));
        leaf[2] = 99;
        byte[] back = new byte[4096];
        var error = Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(leaf, back));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
            Assert.That(error.Message, Does.Contain("version 99"));
            Assert.That(back, Is.All.Zero);
        });
    }

    [Test]
    public void Decode_TruncatedLeaf_ThrowsFormatException()
    {
        byte[] leaf = Leaf(ArchiveTestData.Words(4096, 5));
        Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(leaf.AsSpan(0, 3), new byte[4096]));
    }

    [Test]
    public void TryEncode_GoldenStream_WritesAndDecodesTheGoldenLeaf()
    {
        byte[] raw = ArchiveTestData.Words(2048, 1);
        Assert.That(Convert.ToHexStringLower(Leaf(raw)), Is.EqualTo(GoldenLeafHex));
        byte[] back = new byte[raw.Length];
        RecipeDecoder.Decode(Convert.FromHexString(GoldenLeafHex), back);
        Assert.That(back, Is.EqualTo(raw));
    }

    private static byte[] Leaf(byte[] raw)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.That(ArchiveStreams.TryEncode(raw, raw.Length, writer), Is.GreaterThan(0));
        return writer.WrittenSpan.ToArray();
    }

    // Leaf kind 13, context-mix model v1 (binary context set), coding ArchiveTestData.Words(2048, 1). Never
    // regenerate to make the test pass: frames written earlier must keep decoding.
    private const string GoldenLeafHex =
        "0d01010304100c967b82c471e48a956e9cccc3ffea75144f6214bfdecfdfb50a97767a541df479a4f8e6cc910b1406f5a9d9"
        + "93ae6e8fd5fd5b1f5c0318fb68c2dfc797a1fc69ac6a70b879f33439c3f4d04689d707730201d42d13bb9337f44487652ffe"
        + "4110d36b4d11c2b032bcb28dc65be35fb6297f020c17b23c0f6fa15c11397d76c0189a6dc674b11cb75da68dab26c0a3646e"
        + "fca7c85348b77f4fe0f9bea1ee66577930ea679f4dd36de29f7a952c2e87795d59a48dc9e5047acebb06ca793d325c545df2"
        + "b7b577ed4bf8c3fb28eff158f9ec03ab537fa403b5312acc7b40a65dd4d98fa407af08bffce7558ff68049c39ece4354dbb8"
        + "f3fd5081e165dab3c85f0851d866024b4a65d38893232c1ae86e645ef52cf01c2691273a41a6b488e24730f75bae03fbb6e9"
        + "f7960736c9e20ad7cbe2f30dbd10a0d0ca21acb02582a31b8cdb71005379866198f07f536bfa17803a535544816f713201f0"
        + "31319642b6958542c9a8c14327b3e0b9b80a29f2805943543b6b547996dd2825bdac72228aed0e848ca1d6fb7022960f7718"
        + "161a9d8f7315571b407b81c9f61005d41d";
}
