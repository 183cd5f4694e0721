using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Entropy;
using Z4Ai.Internal;
using Z4Ai.Tests.Transforms;

namespace Z4Ai.Tests.Codecs;

/// <summary>The frame layer: header, legacy ids, the never-expand bound on any input of any dtype, effort choices.</summary>
public class TensorCodecTests
{
    [Test]
    public void Encode_AnyStructuredInputOfAnyDType_RoundTripsWithinTheHeaderBound()
    {
        // The transform tests' generator: noise, pools, dead bits, zeros, progressions, 0/1, half-origin,
        // dequantised codes and runs, seasoned with NaNs, infinities, -0.0 and subnormals, for every whole-byte dtype.
        Prop.ForAll(TransformSamples.Structured(600), Gen.Choose(0, 2).ToArbitrary(), (sample, effort) =>
        {
            byte[] frame = CodecSamples.Encode(sample.Raw, sample.DType, (CompressionEffort)effort, sample.Shape.Length >= 2 ? (int)sample.Shape[^1] : 0);
            return frame.Length <= sample.Raw.Length + TensorCodec.MaxHeaderLength
                && CodecSamples.Decode(frame, sample.Raw.Length).AsSpan().SequenceEqual(sample.Raw);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Encode_RandomBytesAsSubByteDTypes_RoundTrip()
    {
        Prop.ForAll(ArbMap.Default.GeneratorFor<byte>().ArrayOf().ToArbitrary(), data =>
        {
            foreach (DType dtype in new[] { DType.F4, DType.F6_E2M3, DType.F8_E4M3, DType.BOOL })
            {
                byte[] frame = CodecSamples.Encode(data, dtype);
                if (frame.Length > data.Length + TensorCodec.MaxHeaderLength || !CodecSamples.Decode(frame, data.Length).AsSpan().SequenceEqual(data))
                {
                    return false;
                }
            }

            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Test]
    public void Encode_ShortChunk_IsStoredWithTheLegacyId()
    {
        byte[] raw = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] frame = CodecSamples.Encode(raw, DType.F32);
        Assert.That(frame, Is.EqualTo(new byte[] { (byte)CodecId.Stored, 8, 1, 2, 3, 4, 5, 6, 7, 8 }));
    }

    [Test]
    public void Decode_LegacyPlanesZstdFrame_RestoresBytes()
    {
        // Id 2 is no longer written, but frames of earlier versions must keep decoding: two planes, one stored and
        // one zstd, then a one-byte tail.
        byte[] raw = [.. Enumerable.Range(0, 65).Select(i => (byte)(i * 3))];
        byte[] low = [.. Enumerable.Range(0, 32).Select(i => raw[2 * i])];
        byte[] high = [.. Enumerable.Range(0, 32).Select(i => raw[(2 * i) + 1])];
        var frame = new ArrayBufferWriter<byte>();
        frame.Write<byte>([(byte)CodecId.PlanesZstd]);
        VarInt.Write(frame, 65);
        frame.Write<byte>([2, 0]);
        VarInt.Write(frame, 32);
        frame.Write(low);
        byte[] compressed = new byte[ZstdBackend.GetMaxCompressedLength(32)];
        int length = ZstdBackend.Compress(high, compressed, 3);
        frame.Write<byte>([1]);
        VarInt.Write(frame, (ulong)length);
        frame.Write(compressed.AsSpan(0, length));
        frame.Write<byte>([raw[64]]);
        Assert.That(CodecSamples.Decode(frame.WrittenSpan.ToArray(), raw.Length), Is.EqualTo(raw));
    }

    [Test]
    public void Decode_WrongDestinationLength_Throws()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(1000, new Random(1)));
        byte[] frame = CodecSamples.Encode(raw, DType.BF16);
        Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode(frame, new byte[raw.Length - 1]));
        Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode(frame, new byte[raw.Length + 1]));
    }

    [Test]
    public void Encode_FastEffort_NeverUsesContextMixingOrOrder1()
    {
        var rng = new Random(4);
        byte[][] inputs =
        [
            CodecSamples.Bf16(CodecSamples.Weights(20000, rng)),
            CodecSamples.U8Codes(50000, rng),
            CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(20000, rng), 127, false)),
        ];
        DType[] dtypes = [DType.BF16, DType.U8, DType.F32];
        for (int i = 0; i < inputs.Length; i++)
        {
            string recipe = CodecSamples.Recipe(CodecSamples.Encode(inputs[i], dtypes[i], CompressionEffort.Fast));
            Assert.That(recipe, Does.Not.Contain("cm").And.Not.Contain("rans-o1"), recipe);
        }
    }

    [Test]
    public void Encode_HigherEffort_IsNeverLarger()
    {
        var rng = new Random(8);
        (byte[], DType)[] inputs =
        [
            (CodecSamples.Bf16(CodecSamples.Weights(30000, rng)), DType.BF16),
            (CodecSamples.F32(CodecSamples.Prune(CodecSamples.Weights(20000, rng), rng, 3)), DType.F32),
            (CodecSamples.U8Codes(40000, rng), DType.U8),
        ];
        foreach ((byte[] raw, DType dtype) in inputs)
        {
            int fast = CodecSamples.Encode(raw, dtype, CompressionEffort.Fast).Length;
            int max = CodecSamples.Encode(raw, dtype, CompressionEffort.Max).Length;
            Assert.That(max, Is.LessThanOrEqualTo(fast), dtype.GetName());
        }
    }

    [Test]
    public void Encode_NullOutputOrNegativeRow_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentNullException>(() => TensorCodec.Encode([1, 2], DType.U8, CompressionEffort.Default, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => TensorCodec.Encode([1, 2], DType.U8, CompressionEffort.Default, new ArrayBufferWriter<byte>(), -1));
    }

    [Test]
    public void Describe_LegacyAndRecipeFrames_NameTheirCoders()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(4096, new Random(2)));
        Assert.That(CodecSamples.Recipe(CodecSamples.Encode(raw, DType.BF16, CompressionEffort.Fast, 0)), Is.EqualTo("fields(BF16)[exponent:rans-o0 sign+mantissa:stored]"));
        Assert.That(CodecNames.Get((byte)CodecId.Recipe), Is.EqualTo("recipe"));
        Assert.That(CodecNames.Get(200), Is.EqualTo("codec-200"));
    }
}
