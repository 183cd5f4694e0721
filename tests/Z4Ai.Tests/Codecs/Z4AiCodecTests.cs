using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Codecs;

/// <summary>The public buffer API: frames, typed and tensor overloads, streams, inspection, integrity and hostile frames.</summary>
public class Z4AiCodecTests
{
    [Test]
    public void Compress_AnyBytesAnyChunkSize_RoundTripsAndStaysWithinTheBound()
    {
        Arbitrary<(byte[] Data, int ChunkShift)> cases =
            (from data in ArbMap.Default.GeneratorFor<byte>().ArrayOf()
             from shift in Gen.Choose(12, 14)
             select (data, shift)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var options = new CodecOptions { ChunkSize = 1 << c.ChunkShift, MaxDegreeOfParallelism = 2 };
            byte[] frame = Z4AiCodec.Compress(c.Data, DType.U8, options);
            return frame.Length <= Z4AiCodec.GetMaxCompressedLength(c.Data.Length, options)
                && Z4AiCodec.Decompress(frame).AsSpan().SequenceEqual(c.Data);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(100));
    }

    [Test]
    public void Compress_TypedValuesWithShape_RestoresValuesDTypeAndShape()
    {
        float[] values = CodecSamples.Weights(64 * 48, new Random(1));
        byte[] frame = Z4AiCodec.Compress<float>(values, DType.F32, [64, 48]);
        Assert.That(Z4AiCodec.Decompress<float>(frame), Is.EqualTo(values));
        Tensor tensor = Z4AiCodec.DecompressTensor(frame);
        Assert.That(tensor.DType, Is.EqualTo(DType.F32));
        Assert.That(tensor.Shape, Is.EqualTo(new long[] { 64, 48 }));
        Assert.That(tensor.ToArray<float>(), Is.EqualTo(values));
    }

    [Test]
    public void Compress_Tensor_RoundTripsThroughDecompressTensor()
    {
        ushort[] bf16 = MemoryMarshal.Cast<byte, ushort>(CodecSamples.Bf16(CodecSamples.Weights(3000, new Random(2)))).ToArray();
        var tensor = Tensor.FromArray<ushort>(DType.BF16, [3, 1000], bf16);
        Tensor back = Z4AiCodec.DecompressTensor(Z4AiCodec.Compress(tensor));
        Assert.That(back.DType, Is.EqualTo(DType.BF16));
        Assert.That(back.Shape, Is.EqualTo(new long[] { 3, 1000 }));
        Assert.That(back.Data.ToArray(), Is.EqualTo(tensor.Data.ToArray()));
    }

    [Test]
    public void Compress_WithoutShape_DecompressTensorIsFlat()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(500, new Random(3)));
        Tensor back = Z4AiCodec.DecompressTensor(Z4AiCodec.Compress(raw, DType.BF16));
        Assert.That(back.Shape, Is.EqualTo(new long[] { 500 }));
    }

    [Test]
    public void Compress_Stream_EqualsTheSpanFrameAndDecompressesToStream()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(40000, new Random(4)));
        var options = new CodecOptions { ChunkSize = 8192, Shape = [160, 250], MaxDegreeOfParallelism = 3 };
        byte[] fromSpan = Z4AiCodec.Compress(raw, DType.BF16, options);
        using var compressed = new MemoryStream();
        Z4AiCodec.Compress(new MemoryStream(raw), raw.Length, compressed, DType.BF16, options);
        Assert.That(compressed.ToArray(), Is.EqualTo(fromSpan));

        compressed.Position = 0;
        using var restored = new MemoryStream();
        CodecFrameInfo info = Z4AiCodec.Decompress(compressed, restored);
        Assert.That(restored.ToArray(), Is.EqualTo(raw));
        Assert.That(info.Shape, Is.EqualTo(new long[] { 160, 250 }));
        Assert.That(info.FrameLength, Is.EqualTo(fromSpan.Length));
    }

    [Test]
    public void Decompress_IntoSpan_NeedsExactLength()
    {
        byte[] raw = CodecSamples.U8Codes(5000, new Random(5));
        byte[] frame = Z4AiCodec.Compress(raw, DType.U8);
        byte[] into = new byte[raw.Length];
        Assert.That(Z4AiCodec.Decompress(frame, into), Is.EqualTo(raw.Length));
        Assert.That(into, Is.EqualTo(raw));
        Assert.Throws<ArgumentException>(() => Z4AiCodec.Decompress(frame, new byte[raw.Length + 1]));
    }

    [Test]
    public void Inspect_DenseBf16_ReportsRecipeStreamsAndFieldEntropies()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(50000, new Random(6)));
        byte[] frame = Z4AiCodec.Compress(raw, DType.BF16, new CodecOptions { Effort = CompressionEffort.Fast, Shape = [200, 250] });
        CodecFrameInfo info = Z4AiCodec.Inspect(frame);
        Assert.That(info.DType, Is.EqualTo(DType.BF16));
        Assert.That(info.RawLength, Is.EqualTo(raw.Length));
        Assert.That(info.FrameLength, Is.EqualTo(frame.Length));
        Assert.That(info.ElementCount, Is.EqualTo(50000));
        Assert.That(info.Recipes.Single().Key, Is.EqualTo("fields(BF16)[exponent:rans-o0 sign+mantissa:stored]"));
        CodecStreamInfo exponent = info.Streams.Single(s => s.Path == "data/exponent");
        Assert.That(exponent.Coder, Is.EqualTo("rans-o0"));
        Assert.That(exponent.BitsPerElement, Is.InRange(2.0, 3.5));
        Assert.That(info.Streams.Single(s => s.Path == "data/sign+mantissa").BitsPerElement, Is.EqualTo(8.0).Within(0.01));
        Assert.That(info.SignEntropyBits, Is.EqualTo(1.0).Within(0.01));
        Assert.That(info.ExponentEntropyBits, Is.InRange(2.0, exponent.BitsPerElement));
        Assert.That(info.MantissaEntropyBits, Is.InRange(6.5, 7.0));
        Assert.That(info.Sha256, Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(raw))));

        using var stream = new MemoryStream(frame);
        CodecFrameInfo fromStream = Z4AiCodec.Inspect(stream);
        Assert.That(fromStream.Streams.Select(s => (s.Path, s.EncodedBytes)), Is.EqualTo(info.Streams.Select(s => (s.Path, s.EncodedBytes))));
    }

    [Test]
    public void Decompress_FlippedDigest_ThrowsIntegrityException()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(2000, new Random(7)));
        byte[] frame = Z4AiCodec.Compress(raw, DType.BF16);
        frame[^5] ^= 0x10;
        Assert.Throws<Z4AiIntegrityException>(() => Z4AiCodec.Decompress(frame));
        Assert.Throws<Z4AiIntegrityException>(() => Z4AiCodec.Inspect(frame));
        Assert.Throws<Z4AiIntegrityException>(() => Z4AiCodec.Decompress(new MemoryStream(frame), Stream.Null));
    }

    [Test]
    public void Decompress_MutatedFrames_ThrowOnlyZ4AiExceptions()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Prune(CodecSamples.Weights(6000, new Random(8)), new Random(9), 3));
        byte[] frame = Z4AiCodec.Compress(raw, DType.BF16, new CodecOptions { ChunkSize = 4096, Shape = [60, 100] });
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            byte[] mutated = seed % 3 == 0 ? frame.AsSpan(0, rng.Next(frame.Length)).ToArray() : frame.ToArray();
            if (seed % 3 != 0)
            {
                mutated[rng.Next(Math.Min(mutated.Length, seed % 3 == 1 ? 40 : mutated.Length))] ^= (byte)(1 << rng.Next(8));
            }

            AssertOnlyZ4AiErrors(() => Z4AiCodec.Decompress(mutated));
            AssertOnlyZ4AiErrors(() => Z4AiCodec.Decompress(new MemoryStream(mutated), Stream.Null));
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Decompress_HugeDeclaredLength_FailsBeforeAllocating()
    {
        // A header that declares 2^40 raw bytes (2^28 chunks of 4 KiB) followed by nothing.
        byte[] frame = [(byte)'Z', (byte)'4', (byte)'A', (byte)'F', 1, 0, (byte)DType.U8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x80, 0x20];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress(frame));
        Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress(new MemoryStream(frame), Stream.Null));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20));
    }

    [Test]
    public void Decompress_BadHeaders_ThrowFormatExceptions()
    {
        byte[] good = Z4AiCodec.Compress(new byte[100], DType.U8);
        byte[] badMagic = good.ToArray();
        badMagic[0] = (byte)'X';
        byte[] badVersion = good.ToArray();
        badVersion[4] = 2;
        byte[] badFlags = good.ToArray();
        badFlags[5] = 0x80;
        byte[] badDType = good.ToArray();
        badDType[6] = 99;
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress(badMagic))!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
        Assert.That(Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress(badVersion))!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress(badFlags));
        Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress(badDType));
        Assert.Throws<Z4AiFormatException>(() => Z4AiCodec.Decompress([.. good, 0]));
        Assert.That(Z4AiCodec.IsFrame(good), Is.True);
        Assert.That(Z4AiCodec.IsFrame(badMagic), Is.False);
    }

    [Test]
    public void Compress_BadArguments_ThrowArgumentExceptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Z4AiCodec.Compress(new byte[8], DType.U8, new CodecOptions { ChunkSize = 1000 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Z4AiCodec.Compress(new byte[8], DType.U8, new CodecOptions { MaxDegreeOfParallelism = 0 }));
        Assert.Throws<ArgumentException>(() => Z4AiCodec.Compress(new byte[8], DType.F32, new CodecOptions { Shape = [3] }));
        Assert.Throws<ArgumentException>(() => Z4AiCodec.Compress(new byte[6], DType.F32));
        Assert.Throws<ArgumentException>(() => Z4AiCodec.Compress<float>(new float[4], DType.BF16, []));
        Assert.Throws<ArgumentException>(() => Z4AiCodec.Decompress<double>(Z4AiCodec.Compress(new byte[8], DType.F32)));
    }

    [Test]
    public void Compress_EmptyBuffer_RoundTrips()
    {
        byte[] frame = Z4AiCodec.Compress([], DType.BF16, new CodecOptions { Shape = [0, 16] });
        Assert.That(Z4AiCodec.Decompress(frame), Is.Empty);
        Assert.That(Z4AiCodec.DecompressTensor(frame).Shape, Is.EqualTo(new long[] { 0, 16 }));
        Assert.That(Z4AiCodec.Inspect(frame).ChunkCount, Is.Zero);
    }

    private static void AssertOnlyZ4AiErrors(Action action)
    {
        try
        {
            action();
        }
        catch (Z4AiException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{ex.GetType().Name} escaped: {ex}");
        }
    }
}
