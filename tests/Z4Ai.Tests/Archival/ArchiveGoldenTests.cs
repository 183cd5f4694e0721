using NUnit.Framework;

namespace Z4Ai.Tests.Archival;

/// <summary>
/// Literal archives, so the format and the model cannot drift: these bytes must keep decoding to the same input
/// on every machine and run, and the encoder must keep writing exactly them. Never regenerate them to make a
/// failing test pass; a model change needs a new model version.
/// </summary>
public class ArchiveGoldenTests
{
    [Test]
    public void Decompress_GoldenArchives_RestoreTheirInputs([Values(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)] int index)
    {
        (byte[] input, ArchiveOptions _, string hex) = ArchiveGolden.Frames[index];
        Assert.That(ArchiveCodec.Decompress(Convert.FromHexString(hex)), Is.EqualTo(input));
    }

    [Test]
    public void Compress_GoldenInputs_WriteTheGoldenBytes([Values(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)] int index)
    {
        (byte[] input, ArchiveOptions options, string hex) = ArchiveGolden.Frames[index];
        Assert.That(Convert.ToHexStringLower(ArchiveCodec.Compress(input, options)), Is.EqualTo(hex));
    }

    [Test]
    public void DecodeBytes_GoldenSymbolStream_RestoresItsInput()
    {
        byte[] input = ArchiveGolden.SymbolInput();
        Assert.That(Convert.ToHexStringLower(Encode(input)), Is.EqualTo(ArchiveGolden.SymbolHex));
        byte[] back = new byte[input.Length];
        ArchiveCodec.DecodeBytes(Convert.FromHexString(ArchiveGolden.SymbolHex), back);
        Assert.That(back, Is.EqualTo(input));
    }

    private static byte[] Encode(byte[] input)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.That(ArchiveCodec.TryEncodeBytes(input, ArchivePreset.Binary, writer, input.Length), Is.True);
        return writer.WrittenSpan.ToArray();
    }
}
