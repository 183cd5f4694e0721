using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Archival;

namespace Z4Ai.Tests.Archival;

/// <summary>The frameless model coder the codec pipeline uses for exponent and sign streams.</summary>
public class SymbolCoderTests
{
    private static byte[] Exponents(int count, int seed)
    {
        // BF16 exponents of Gaussian weights cluster on a few values: compressible, not text.
        var random = new Random(seed);
        byte[] data = new byte[count];
        for (int i = 0; i < count; i++)
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()) * 0.02;
            data[i] = (byte)(BitConverter.SingleToInt32Bits((float)g) >> 23);
        }

        return data;
    }

    [Test]
    public void TryEncodeBytes_RoundTrips([Values] bool order2)
    {
        Prop.ForAll(
            Gen.Choose(0, 4000).Zip(Gen.Choose(0, 1000)).ToArbitrary(),
            t =>
            {
                byte[] data = Exponents(t.Item1, t.Item2);
                var writer = new System.Buffers.ArrayBufferWriter<byte>();
                if (!ArchiveCodec.TryEncodeBytes(data, ArchivePreset.Binary, writer, data.Length + 64, order2))
                {
                    return data.Length == 0;
                }

                byte[] back = new byte[data.Length];
                ArchiveCodec.DecodeBytes(writer.WrittenSpan, back);
                return back.AsSpan().SequenceEqual(data);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    [Test]
    public void TryEncodeBytes_Exponents_BeatTheRawBytes([Values] bool order2)
    {
        byte[] data = Exponents(20000, 1);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.That(ArchiveCodec.TryEncodeBytes(data, ArchivePreset.Binary, writer, data.Length, order2), Is.True);
        Assert.That(writer.WrittenCount, Is.LessThan(data.Length / 2));
    }

    [Test]
    public void TryEncodeBytes_CannotBeatTheLimit_WritesNothing()
    {
        byte[] data = ArchiveTestData.RandomBytes(2000, 2);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.That(ArchiveCodec.TryEncodeBytes(data, ArchivePreset.Binary, writer, data.Length), Is.False);
        Assert.That(writer.WrittenCount, Is.Zero);
    }

    [Test]
    public void DecodeBytes_DamagedInput_ThrowsOnlyZ4AiExceptions()
    {
        byte[] data = Exponents(300, 3);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.That(ArchiveCodec.TryEncodeBytes(data, ArchivePreset.Binary, writer, data.Length), Is.True);
        byte[] encoded = writer.WrittenSpan.ToArray();
        for (int cut = 0; cut < encoded.Length; cut++)
        {
            AssertOnlyZ4Ai(encoded[..cut], data);
        }

        for (int bit = 0; bit < encoded.Length * 8; bit += 3)
        {
            byte[] flipped = (byte[])encoded.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertOnlyZ4Ai(flipped, data);
        }
    }

    [Test]
    public void DecodeBytes_UnknownModel_ThrowsUnsupportedVersion()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.DecodeBytes([9, 1, 0, 0, 0], new byte[4]));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        Assert.That(ex.Message, Does.Contain("model id 9 version 1"));
    }

    private static void AssertOnlyZ4Ai(byte[] encoded, byte[] original)
    {
        // A flip may also leave a valid stream that decodes to other bytes: the container's per-tensor SHA-256
        // catches those; here only the exception type matters.
        try
        {
            ArchiveCodec.DecodeBytes(encoded, new byte[original.Length]);
        }
        catch (Z4AiException)
        {
        }
    }
}
