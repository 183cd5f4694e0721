using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Archival;

namespace Z4Ai.Tests.Archival;

public class ArchiveCodecTests
{
    private static readonly ArchivePreset[] Presets =
        [ArchivePreset.Auto, ArchivePreset.Prose, ArchivePreset.Code, ArchivePreset.Json, ArchivePreset.Binary];

    private static byte[] RoundTrip(byte[] data, ArchiveOptions options)
    {
        byte[] archive = ArchiveCodec.Compress(data, options);
        Assert.That(archive.LongLength, Is.LessThanOrEqualTo(ArchiveCodec.GetMaxCompressedLength(data.Length, options.BlockSize)));
        return ArchiveCodec.Decompress(archive);
    }

    [Test]
    public void CompressDecompress_RandomBytes_RoundTripsAndNeverExpands()
    {
        Prop.ForAll(
            ArbMap.Default.GeneratorFor<byte>().ArrayOf().Zip(Gen.Elements(Presets)).Zip(Gen.Elements(false, true)).ToArbitrary(),
            t =>
            {
                ((byte[] data, ArchivePreset preset), bool primer) = t;
                var options = new ArchiveOptions { Preset = preset, UsePrimer = primer };
                byte[] archive = ArchiveCodec.Compress(data, options);
                return archive.LongLength <= ArchiveCodec.GetMaxCompressedLength(data.Length)
                    && ArchiveCodec.Decompress(archive).AsSpan().SequenceEqual(data);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Test]
    public void CompressDecompress_Text_RoundTrips()
    {
        Prop.ForAll(
            Gen.Choose(0, 3000).Zip(Gen.Choose(0, 1000)).Zip(Gen.Elements(Presets)).Zip(Gen.Elements(false, true)).ToArbitrary(),
            t =>
            {
                (((int length, int seed), ArchivePreset preset), bool primer) = t;
                byte[] data = ArchiveTestData.Words(length, seed);
                return RoundTrip(data, new ArchiveOptions { Preset = preset, UsePrimer = primer }).AsSpan().SequenceEqual(data);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Test]
    public void CompressDecompress_EmptyAndOneByte_RoundTrip([ValueSource(nameof(Presets))] ArchivePreset preset, [Values] bool primer)
    {
        var options = new ArchiveOptions { Preset = preset, UsePrimer = primer };
        Assert.That(RoundTrip([], options), Is.Empty);
        Assert.That(RoundTrip([0x41], options), Is.EqualTo(new byte[] { 0x41 }));
    }

    [Test]
    public void Compress_RepetitiveText_UsesTheModelAndBeatsZstd([Values] bool primer)
    {
        byte[] data = ArchiveTestData.Words(20000, 1);
        byte[] archive = ArchiveCodec.Compress(data, new ArchiveOptions { UsePrimer = primer });
        ArchiveInfo info = ArchiveCodec.Inspect(archive);
        Assert.Multiple(() =>
        {
            Assert.That(info.ModelBlocks, Is.EqualTo(1));
            Assert.That(info.Model, Does.StartWith("context-mix v2"));
            Assert.That(info.Primer, primer ? Is.EqualTo("prose-v3") : Is.Null);
            Assert.That(info.Length, Is.EqualTo(data.Length));
            Assert.That(archive.Length, Is.LessThan(data.Length / 3));
        });
        Assert.That(ArchiveCodec.Decompress(archive), Is.EqualTo(data));
    }

    [Test]
    public void Compress_RandomBytes_StoresAndNamesNoModel()
    {
        byte[] data = ArchiveTestData.RandomBytes(5000, 2);
        byte[] archive = ArchiveCodec.Compress(data);
        ArchiveInfo info = ArchiveCodec.Inspect(archive);
        Assert.Multiple(() =>
        {
            Assert.That(info.StoredBlocks, Is.EqualTo(1));
            Assert.That(info.Model, Is.Null);
            Assert.That(info.Primer, Is.Null);
            Assert.That(archive.Length, Is.LessThanOrEqualTo(data.Length + 60));
        });
    }

    [Test]
    public void Compress_SmallBlocks_CodesEachBlockAndRoundTrips([Values(1, 2)] int parallelism)
    {
        byte[] data = ArchiveTestData.Words(5000, 3);
        var options = new ArchiveOptions { BlockSize = 777, MaxDegreeOfParallelism = parallelism, ZstdLevel = 3 };
        byte[] archive = ArchiveCodec.Compress(data, options);
        ArchiveInfo info = ArchiveCodec.Inspect(archive);
        Assert.That(info.Blocks, Is.EqualTo(7));
        Assert.That(info.BlockSize, Is.EqualTo(777));
        Assert.That(ArchiveCodec.Decompress(archive), Is.EqualTo(data));
    }

    [Test]
    public void Compress_Twice_IsDeterministic([ValueSource(nameof(Presets))] ArchivePreset preset)
    {
        byte[] data = ArchiveTestData.Repeat(ArchiveTestData.Prose + ArchiveTestData.Json + ArchiveTestData.Code, 5);
        var options = new ArchiveOptions { Preset = preset };
        byte[] first = ArchiveCodec.Compress(data, options);
        byte[] second = ArchiveCodec.Compress(data, options);
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Compress_ParallelBlocks_EqualsSequential()
    {
        byte[] data = ArchiveTestData.Words(6000, 4);
        byte[] sequential = ArchiveCodec.Compress(data, new ArchiveOptions { BlockSize = 1000 });
        byte[] parallel = ArchiveCodec.Compress(data, new ArchiveOptions { BlockSize = 1000, MaxDegreeOfParallelism = 3 });
        Assert.That(parallel, Is.EqualTo(sequential));
    }

    [Test]
    public void StreamForms_MatchTheSpanForms([Values(100, 4096, 1 << 20)] int blockSize)
    {
        byte[] data = ArchiveTestData.Words(9000, 5);
        var options = new ArchiveOptions { BlockSize = blockSize };
        using var archive = new MemoryStream();
        ArchiveCodec.Compress(new MemoryStream(data), archive, options);
        Assert.That(archive.ToArray(), Is.EqualTo(ArchiveCodec.Compress(data, options)), "a stream archive is the same bytes as the in-memory one");

        using var restored = new MemoryStream();
        archive.Position = 0;
        ArchiveCodec.Decompress(archive, restored);
        Assert.That(restored.ToArray(), Is.EqualTo(data));
    }

    [Test]
    public void StreamForms_EmptyAndRandomInput_MatchTheSpanForms([Values(0, 1, 3000)] int length)
    {
        byte[] data = ArchiveTestData.RandomBytes(length, length);
        using var archive = new MemoryStream();
        ArchiveCodec.Compress(new MemoryStream(data), archive);
        Assert.That(archive.ToArray(), Is.EqualTo(ArchiveCodec.Compress(data)));
        archive.Position = 0;
        using var restored = new MemoryStream();
        ArchiveCodec.Decompress(archive, restored);
        Assert.That(restored.ToArray(), Is.EqualTo(data));
    }

    [Test]
    public void FileForms_RoundTrip()
    {
        string dir = Path.Combine(Path.GetTempPath(), "z4ai-archive-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            byte[] data = ArchiveTestData.Words(12000, 6);
            File.WriteAllBytes(Path.Combine(dir, "card.md"), data);
            ArchiveCodec.CompressFile(Path.Combine(dir, "card.md"), Path.Combine(dir, "card.md.z4ar"), new ArchiveOptions { BlockSize = 5000 });
            ArchiveCodec.DecompressFile(Path.Combine(dir, "card.md.z4ar"), Path.Combine(dir, "back.md"));
            Assert.That(File.ReadAllBytes(Path.Combine(dir, "back.md")), Is.EqualTo(data));
            Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(3), "no temporary file is left behind");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void TryDecompress_DestinationSizes_ReportOrDecode()
    {
        byte[] data = ArchiveTestData.Words(3000, 7);
        byte[] archive = ArchiveCodec.Compress(data);
        Assert.That(ArchiveCodec.GetDecompressedLength(archive), Is.EqualTo(data.Length));
        Assert.That(ArchiveCodec.TryDecompress(archive, new byte[data.Length - 1], out int none), Is.False);
        Assert.That(none, Is.Zero);
        byte[] exact = new byte[data.Length];
        Assert.That(ArchiveCodec.TryDecompress(archive, exact, out int written), Is.True);
        Assert.That(written, Is.EqualTo(data.Length));
        Assert.That(exact, Is.EqualTo(data));
    }

    [Test]
    public void Compress_BufferWriterOverload_AppendsTheSameArchive()
    {
        byte[] data = ArchiveTestData.Utf8(ArchiveTestData.Prose);
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(new byte[] { 1, 2, 3 });
        ArchiveCodec.Compress(data, writer);
        Assert.That(writer.WrittenSpan[3..].ToArray(), Is.EqualTo(ArchiveCodec.Compress(data)));
    }

    [Test]
    public void Decompress_OverTheLimit_ThrowsLimitExceeded()
    {
        byte[] archive = ArchiveCodec.Compress(ArchiveTestData.Words(2000, 8));
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(archive, new ArchiveOptions { MaxDecompressedLength = 1999 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
    }

    [Test]
    public void Options_OutOfRange_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ArchiveOptions { BlockSize = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ArchiveOptions { BlockSize = ArchiveOptions.MaxBlockSize + 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ArchiveOptions { ZstdLevel = 23 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ArchiveOptions { Preset = (ArchivePreset)9 });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ArchiveOptions { MaxDegreeOfParallelism = 0 });
    }

    [Test]
    public void Compress_ModelVersion1And2_BothRecordTheirVersionAndRoundTrip([Values] bool primer)
    {
        // Version 2 must really be a different model (its frames differ), and version 1 must stay decodable.
        byte[] data = ArchiveTestData.Words(6000, 4);
        byte[] v1 = ArchiveCodec.Compress(data, new ArchiveOptions { Preset = ArchivePreset.Prose, UsePrimer = primer, ZstdLevel = 0, ModelVersion = 1 });
        byte[] v2 = ArchiveCodec.Compress(data, new ArchiveOptions { Preset = ArchivePreset.Prose, UsePrimer = primer, ZstdLevel = 0 });
        Assert.Multiple(() =>
        {
            Assert.That(ArchiveCodec.Inspect(v1).Model, Is.EqualTo("context-mix v1 (prose)"));
            Assert.That(ArchiveCodec.Inspect(v2).Model, Is.EqualTo("context-mix v2 (prose)"));
            Assert.That(ArchiveCodec.Inspect(v1).Primer, primer ? Is.EqualTo("prose-v3") : Is.Null);
            Assert.That(ArchiveCodec.Inspect(v2).Primer, primer ? Is.EqualTo("prose-v3") : Is.Null);
            Assert.That(v2, Is.Not.EqualTo(v1));
            Assert.That(ArchiveCodec.Decompress(v1), Is.EqualTo(data));
            Assert.That(ArchiveCodec.Decompress(v2), Is.EqualTo(data));
        });
    }

    [Test]
    public void ContextsFor_Version2_AddsTheWordPairToTextPresetsOnly()
    {
        foreach (ArchivePreset preset in new[] { ArchivePreset.Prose, ArchivePreset.Code, ArchivePreset.Json })
        {
            ContextMixPreset p = ContextMixPreset.Get(preset);
            Assert.That(p.ContextsFor(2), Is.EqualTo(p.ContextsFor(1).Append(ContextKind.WordPair).ToArray()), preset.ToString());
        }

        ContextMixPreset binary = ContextMixPreset.Get(ArchivePreset.Binary);
        Assert.That(binary.ContextsFor(2), Is.EqualTo(binary.ContextsFor(1)));
    }

    [Test]
    public void PrimedModel_FromCacheOrFresh_PredictsIdentically()
    {
        // The cache hands out clones of a primed snapshot; a model primed from scratch must code the same bytes.
        Primer primer = Primer.ForPreset(ArchivePreset.Prose)!;
        var settings = ContextMixSettings.ForLength(ArchivePreset.Prose, primer.Bytes.Length + 4000L);
        ModelDescriptor descriptor = SymbolModels.ContextMix(settings, ContextMixModel.LatestVersion);
        byte[] data = ArchiveTestData.Words(4000, 9);

        var fresh = new ContextMixModel(settings, primer.Bytes.Length + data.Length, ContextMixModel.LatestVersion);
        fresh.Learn(primer.Bytes);
        ISymbolModel first = PrimedModels.Get(descriptor, primer, data.Length);
        ISymbolModel second = PrimedModels.Get(descriptor, primer, data.Length);
        Assert.That(ModelCoder.TryEncode(fresh, data, int.MaxValue, out byte[] a, out int la), Is.True);
        Assert.That(ModelCoder.TryEncode(first, data, int.MaxValue, out byte[] b, out int lb), Is.True);
        Assert.That(ModelCoder.TryEncode(second, data, int.MaxValue, out byte[] c, out int lc), Is.True);
        Assert.That(b.AsSpan(0, lb).ToArray(), Is.EqualTo(a.AsSpan(0, la).ToArray()));
        Assert.That(c.AsSpan(0, lc).ToArray(), Is.EqualTo(a.AsSpan(0, la).ToArray()));
    }
}
