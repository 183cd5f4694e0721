using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Archival;
using Z4Ai.Integrity;

namespace Z4Ai.Tests.Archival;

/// <summary>Damaged and forged archives: only Z4Ai exceptions escape, and no wrong bytes are ever returned.</summary>
public class ArchiveHostileTests
{
    private static readonly byte[] Original = ArchiveTestData.Repeat(ArchiveTestData.Prose, 3);

    // A model-coded sample in two blocks, small enough to damage at every position (unprimed, so each of the
    // thousands of decodes builds a small model).
    private static readonly byte[] Sample = ArchiveCodec.Compress(Original, new ArchiveOptions { BlockSize = 300, UsePrimer = false });

    // The same, primed: its header names the prose primer and its SHA-256.
    private static readonly byte[] PrimedSample = ArchiveCodec.Compress(Original, new ArchiveOptions { BlockSize = 300 });

    private static void AssertOnlyZ4AiOrExact(byte[] archive, string what)
    {
        try
        {
            byte[] result = ArchiveCodec.Decompress(archive);
            Assert.That(result, Is.EqualTo(Original), $"{what}: a damaged archive decoded to wrong bytes");
        }
        catch (Z4AiException)
        {
        }

        try
        {
            using var output = new MemoryStream();
            ArchiveCodec.Decompress(new MemoryStream(archive), output);
        }
        catch (Z4AiException)
        {
        }

        try
        {
            ArchiveCodec.Inspect(archive);
        }
        catch (Z4AiException)
        {
        }
    }

    [Test]
    public void Samples_AreModelCodedAndRoundTrip()
    {
        ArchiveInfo info = ArchiveCodec.Inspect(Sample);
        ArchiveInfo primed = ArchiveCodec.Inspect(PrimedSample);
        Assert.Multiple(() =>
        {
            Assert.That(info.Blocks, Is.EqualTo(2));
            Assert.That(info.ModelBlocks, Is.GreaterThanOrEqualTo(1));
            Assert.That(info.Primer, Is.Null);
            Assert.That(primed.ModelBlocks, Is.EqualTo(2));
            Assert.That(primed.Primer, Is.EqualTo("prose-v3"));
        });
        Assert.That(ArchiveCodec.Decompress(Sample), Is.EqualTo(Original));
        Assert.That(ArchiveCodec.Decompress(PrimedSample), Is.EqualTo(Original));
    }

    [Test]
    public void Decompress_PrimedSampleTruncatedOrFlippedInItsHeader_ThrowsZ4AiException()
    {
        for (int length = 0; length < 60; length++)
        {
            Assert.Throws(Is.InstanceOf<Z4AiException>(), () => ArchiveCodec.Decompress(PrimedSample.AsSpan(0, length)), $"truncated to {length}");
        }

        for (int bit = 0; bit < 60 * 8; bit += 7)
        {
            byte[] flipped = (byte[])PrimedSample.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertOnlyZ4AiOrExact(flipped, $"bit {bit}");
        }
    }

    [Test]
    public void Decompress_EveryTruncation_ThrowsZ4AiException()
    {
        for (int length = 0; length < Sample.Length; length++)
        {
            byte[] cut = Sample[..length];
            Assert.Throws(Is.InstanceOf<Z4AiException>(), () => ArchiveCodec.Decompress(cut), $"truncated to {length}");
            Assert.Throws(Is.InstanceOf<Z4AiException>(), () => ArchiveCodec.Decompress(new MemoryStream(cut), new MemoryStream()), $"stream truncated to {length}");
        }
    }

    [Test]
    public void Decompress_BitFlips_ThrowOrRestoreExactly()
    {
        // Every bit of the header and the first block header, then every seventh bit of the payloads and trailer.
        for (int bit = 0; bit < Sample.Length * 8; bit += bit < 256 ? 1 : 7)
        {
            byte[] flipped = (byte[])Sample.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            AssertOnlyZ4AiOrExact(flipped, $"bit {bit}");
        }
    }

    [Test]
    public void Decompress_TrailingBytes_ThrowsCorruptFrame()
    {
        byte[] longer = [.. Sample, 0];
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(longer));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }

    [Test]
    public void Decompress_WrongMagic_ThrowsInvalidContainer()
    {
        byte[] forged = (byte[])Sample.Clone();
        forged[0] = (byte)'X';
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
    }

    [Test]
    public void Decompress_NewerFormatVersion_ThrowsUnsupportedVersion()
    {
        byte[] forged = (byte[])Sample.Clone();
        forged[4] = 2;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
    }

    [Test]
    public void Decompress_UnknownModelId_ThrowsUnsupportedVersionNamingIt()
    {
        byte[] forged = (byte[])Sample.Clone();
        forged[5] = 7;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
            Assert.That(ex.Message, Does.Contain("model id 7 version 2"));
        });
    }

    [Test]
    public void Decompress_UnknownModelVersion_ThrowsUnsupportedVersionNamingIt()
    {
        byte[] forged = (byte[])Sample.Clone();
        forged[6] = ContextMixModel.LatestVersion + 1;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
            Assert.That(ex.Message, Does.Contain($"model id 1 version {ContextMixModel.LatestVersion + 1}"));
        });
    }

    [Test]
    public void Decompress_PrimerHashMismatch_ThrowsReferenceMismatch()
    {
        // Header: magic 4, version 1, model id, version, settings length 3, settings 3, primer id, version, SHA-256.
        int digestAt = 4 + 1 + 3 + 3 + 2;
        byte[] forged = (byte[])PrimedSample.Clone();
        forged[digestAt + 5] ^= 0x10;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
            Assert.That(ex.Message, Does.Contain("prose-v3"));
        });
        Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(new MemoryStream(forged), new MemoryStream()));
    }

    [Test]
    public void Decompress_UnknownPrimer_ThrowsUnsupportedVersion()
    {
        byte[] forged = (byte[])PrimedSample.Clone();
        forged[4 + 1 + 3 + 3] = 9;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
            Assert.That(ex.Message, Does.Contain("primer id 9 version 3 (primer 9-v3), which this library does not ship"));
        });
    }

    // Archives written before the primers were replaced by text this project owns (all three named a withdrawn
    // primer: prose-v1, code-v1 and prose-v2, with those texts' SHA-256). They must be refused as naming a primer
    // this library does not ship, before anything is decoded.
    private static readonly (string Primer, string Hex)[] WithdrawnPrimerFrames =
    [
        ("prose-v1", "5a344152010101030117110101222a2ff661986f089dadc6bcda2da7866cae59d1f5b12e13d7f0dbc0aaa4cc08bf0103bf01"
            + "260fdcd6a315b0636ad7ae259ef3a70bd7a1178a011ae04d815d0d55b6afae9102fb1ae30ec5dd00bf014ecc8670caa7e6d2"
            + "b44c96a341bacbf83681f028164bd4c2927aec256c1a854c"),
        ("code-v1", "5a34415201010103021711020121183479ea13a08de01c9427784593dbe12d59f0b9e490cf0ae5aa6a23aef79b5d035d0c00"
            + "6588f0610deda36e02b72e005df25defb7cd3b03c23ffafd832437a3f62b4586eeb4e4f1c3b0c6222d4dbcc218"),
        ("prose-v2", "5a344152010102030118120102a8001663d091f2ae6d8f8da5ffcac7be372f8c3e42dff455c06bbb6c8216a2f9bf0103bf01"
            + "280bbcb65b2d002d9c6279c3ec28905ddcb3a8c71416b750078090eaed267419f4791fd3f846f5752200bf014ecc8670caa7"
            + "e6d2b44c96a341bacbf83681f028164bd4c2927aec256c1a854c"),
    ];

    [Test]
    public void Decompress_FrameNamingAWithdrawnPrimer_ThrowsUnsupportedVersionNamingIt([Values(0, 1, 2)] int index)
    {
        (string primer, string hex) = WithdrawnPrimerFrames[index];
        byte[] frame = Convert.FromHexString(hex);
        string expected = $"({primer}), which this library does not ship (it ships prose-v3, code-v2, json-v1)";
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(frame));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
            Assert.That(ex.Message, Does.Contain(expected));
            Assert.That(ex.Offset, Is.EqualTo(11), "the offset of the primer id");
        });
        var fromStream = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(new MemoryStream(frame), new MemoryStream()));
        Assert.That(fromStream!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        Assert.That(() => ArchiveCodec.Inspect(frame), Throws.TypeOf<Z4AiFormatException>().With.Message.Contains(expected));
        byte[] destination = new byte[1000];
        Assert.That(() => ArchiveCodec.TryDecompress(frame, destination, out _), Throws.TypeOf<Z4AiFormatException>());
        Assert.That(destination, Is.All.EqualTo((byte)0));
    }

    [Test]
    public void Decompress_ForgedDigest_ThrowsIntegrityNamingBothDigests()
    {
        byte[] forged = (byte[])Sample.Clone();
        forged[^1] ^= 1;
        var ex = Assert.Throws<Z4AiIntegrityException>(() => ArchiveCodec.Decompress(forged));
        Assert.That(ex!.ActualDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(Original))));
        Assert.Throws<Z4AiIntegrityException>(() => ArchiveCodec.Decompress(new MemoryStream(forged), new MemoryStream()));
        byte[] destination = new byte[Original.Length];
        Assert.Throws<Z4AiIntegrityException>(() => ArchiveCodec.TryDecompress(forged, destination, out _));
        Assert.That(destination, Is.All.EqualTo((byte)0), "bytes that failed verification are not left behind");
    }

    [Test]
    public void Decompress_OversizedTables_ThrowsLimitExceededBeforeAllocating()
    {
        // Settings byte 2 is log2 of the context table: 26 (64 MiB) for a few hundred bytes is a forgery.
        byte[] forged = (byte[])Sample.Clone();
        forged[4 + 1 + 3 + 1] = 26;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
    }

    [Test]
    public void Decompress_HandAssembled_FramesAreRejectedPrecisely()
    {
        // magic, version 1, no model, no primer, block size 16, then one block.
        byte[] Frame(params byte[] blocks) => [.. "Z4AR"u8, 1, 0, 0, 16, .. blocks];
        byte[] digest = SHA256.HashData("abc"u8);

        Assert.That(ArchiveCodec.Decompress(Frame([1, 3, 3, .. "abc"u8, 0, 3, .. digest])), Is.EqualTo("abc"u8.ToArray()));
        AssertKind(Frame([3, 3, 1, 0, 0, 3, .. digest]), Z4AiErrorKind.CorruptFrame);             // model block, no model
        AssertKind(Frame([4, 3, 3, .. "abc"u8, 0, 3, .. digest]), Z4AiErrorKind.CorruptFrame);    // unknown method
        AssertKind(Frame([1, 17, 17, .. new byte[17], 0, 17, .. digest]), Z4AiErrorKind.CorruptFrame); // over the block size
        AssertKind(Frame([1, 3, 2, .. "ab"u8, 0, 3, .. digest]), Z4AiErrorKind.CorruptFrame);     // stored length mismatch
        AssertKind(Frame([1, 3, 3, .. "abc"u8, 0, 4, .. digest]), Z4AiErrorKind.CorruptFrame);    // trailer length mismatch
        AssertKind([.. "Z4AR"u8, 1, 0, 0, 0], Z4AiErrorKind.LimitExceeded);                         // block size 0
        AssertKind([.. "Z4AR"u8, 1, 0, 0, 0x80, 0x80, 0x80, 0x40], Z4AiErrorKind.LimitExceeded);   // block size 2^27
        AssertKind([.. "Z4AR"u8, 1, 0, 1, 1, .. digest, 16, 0, 0, .. digest], Z4AiErrorKind.CorruptFrame); // primer, no model
    }

    [Test]
    public void Header_ReadsBackWhatItWrote()
    {
        Primer primer = Primer.ForPreset(ArchivePreset.Code)!;
        var header = new ArchiveHeader(SymbolModels.ContextMix(ContextMixSettings.ForLength(ArchivePreset.Code, 50000), ContextMixModel.LatestVersion), primer, 12345);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        header.Write(writer);
        var reader = new Z4Ai.Internal.SpanReader(writer.WrittenSpan);
        ArchiveHeader back = ArchiveHeader.Read(ref reader);
        int remaining = reader.Remaining;
        Assert.Multiple(() =>
        {
            Assert.That(remaining, Is.Zero);
            Assert.That(back.BlockSize, Is.EqualTo(12345));
            Assert.That(back.Primer, Is.SameAs(primer));
            Assert.That(back.Model!.Settings, Is.EqualTo(header.Model!.Settings));
            Assert.That(writer.WrittenCount, Is.LessThanOrEqualTo(ArchiveHeader.MaxLength));
            Assert.That(new Sha256Digest(primer.Digest.Bytes), Is.EqualTo(primer.Digest));
        });
    }

    private static void AssertKind(byte[] archive, Z4AiErrorKind kind)
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(archive));
        Assert.That(ex!.Kind, Is.EqualTo(kind), ex.Message);
        var streamEx = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(new MemoryStream(archive), new MemoryStream()));
        Assert.That(streamEx!.Kind, Is.EqualTo(kind), streamEx.Message);
    }
}
