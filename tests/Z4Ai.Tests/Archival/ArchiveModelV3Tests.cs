using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Archival;

namespace Z4Ai.Tests.Archival;

/// <summary>
/// Context-mix model version 3 (version 2 plus a short match model and a fourth mixer): a different model from
/// version 2 that records its version, round-trips, is deterministic, and fails only with Z4Ai errors on damage.
/// </summary>
public class ArchiveModelV3Tests
{
    private static readonly ArchivePreset[] Presets =
        [ArchivePreset.Prose, ArchivePreset.Code, ArchivePreset.Json, ArchivePreset.Binary];

    private static readonly byte[] Original = ArchiveTestData.Repeat(ArchiveTestData.Prose, 3);

    // Two model blocks, unprimed so that each of the many damaged decodes builds a small model.
    private static readonly byte[] Sample =
        ArchiveCodec.Compress(Original, new ArchiveOptions { BlockSize = 300, UsePrimer = false, ModelVersion = 3 });

    private static ArchiveOptions V3(ArchivePreset preset, bool primer) =>
        new() { Preset = preset, UsePrimer = primer, ZstdLevel = 0, ModelVersion = 3 };

    [Test]
    public void Compress_ModelVersion3_RecordsItsVersionDiffersFromVersion2AndRoundTrips([Values] bool primer)
    {
        byte[] data = ArchiveTestData.Words(6000, 4);
        byte[] v2 = ArchiveCodec.Compress(data, new ArchiveOptions { Preset = ArchivePreset.Prose, UsePrimer = primer, ZstdLevel = 0, ModelVersion = 2 });
        byte[] v3 = ArchiveCodec.Compress(data, V3(ArchivePreset.Prose, primer));
        Assert.Multiple(() =>
        {
            Assert.That(ArchiveCodec.Inspect(v3).Model, Is.EqualTo("context-mix v3 (prose)"));
            Assert.That(ArchiveCodec.Inspect(v3).Primer, primer ? Is.EqualTo("prose-v3") : Is.Null);
            Assert.That(v3, Is.Not.EqualTo(v2));
            Assert.That(ArchiveCodec.Decompress(v3), Is.EqualTo(data));
            Assert.That(ArchiveCodec.Decompress(v2), Is.EqualTo(data));
        });
    }

    [Test]
    public void CompressDecompress_Version3Text_RoundTrips()
    {
        Prop.ForAll(
            Gen.Choose(0, 3000).Zip(Gen.Choose(0, 1000)).Zip(Gen.Elements(Presets)).Zip(Gen.Elements(false, true)).ToArbitrary(),
            t =>
            {
                (((int length, int seed), ArchivePreset preset), bool primer) = t;
                byte[] data = ArchiveTestData.Words(length, seed);
                byte[] archive = ArchiveCodec.Compress(data, V3(preset, primer));
                return ArchiveCodec.Decompress(archive).AsSpan().SequenceEqual(data);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    [Test]
    public void CompressDecompress_Version3RandomBytes_RoundTripsAndNeverExpands()
    {
        Prop.ForAll(
            ArbMap.Default.GeneratorFor<byte>().ArrayOf().Zip(Gen.Elements(Presets)).ToArbitrary(),
            t =>
            {
                (byte[] data, ArchivePreset preset) = t;
                byte[] archive = ArchiveCodec.Compress(data, new ArchiveOptions { Preset = preset, UsePrimer = false, ModelVersion = 3 });
                return archive.LongLength <= ArchiveCodec.GetMaxCompressedLength(data.Length)
                    && ArchiveCodec.Decompress(archive).AsSpan().SequenceEqual(data);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    [Test]
    public void Compress_Version3Twice_AndInParallelBlocks_GivesTheSameBytes()
    {
        byte[] data = ArchiveTestData.Words(20000, 7);
        var sequential = new ArchiveOptions { Preset = ArchivePreset.Prose, BlockSize = 4000, ModelVersion = 3, MaxDegreeOfParallelism = 1 };
        var parallel = new ArchiveOptions { Preset = ArchivePreset.Prose, BlockSize = 4000, ModelVersion = 3, MaxDegreeOfParallelism = 2 };
        byte[] first = ArchiveCodec.Compress(data, sequential);
        Assert.Multiple(() =>
        {
            Assert.That(ArchiveCodec.Compress(data, sequential), Is.EqualTo(first));
            Assert.That(ArchiveCodec.Compress(data, parallel), Is.EqualTo(first));
            Assert.That(ArchiveCodec.Decompress(first), Is.EqualTo(data));
        });
    }

    [Test]
    public void PrimedVersion3Model_FromCacheOrFresh_PredictsIdentically()
    {
        // The short match model and the fourth mixer must be part of the clone a cached primed model hands out.
        Primer primer = Primer.ForPreset(ArchivePreset.Prose)!;
        var settings = ContextMixSettings.ForLength(ArchivePreset.Prose, primer.Bytes.Length + 4000L);
        ModelDescriptor descriptor = SymbolModels.ContextMix(settings, 3);
        byte[] data = ArchiveTestData.Words(4000, 11);

        var fresh = new ContextMixModel(settings, primer.Bytes.Length + data.Length, 3);
        fresh.Learn(primer.Bytes);
        ISymbolModel first = PrimedModels.Get(descriptor, primer, data.Length);
        ISymbolModel second = PrimedModels.Get(descriptor, primer, data.Length);
        Assert.That(ModelCoder.TryEncode(fresh, data, int.MaxValue, out byte[] a, out int la), Is.True);
        Assert.That(ModelCoder.TryEncode(first, data, int.MaxValue, out byte[] b, out int lb), Is.True);
        Assert.That(ModelCoder.TryEncode(second, data, int.MaxValue, out byte[] c, out int lc), Is.True);
        Assert.That(b.AsSpan(0, lb).ToArray(), Is.EqualTo(a.AsSpan(0, la).ToArray()));
        Assert.That(c.AsSpan(0, lc).ToArray(), Is.EqualTo(a.AsSpan(0, la).ToArray()));
    }

    [Test]
    public void Decompress_Version3SampleEveryTruncation_ThrowsZ4AiException()
    {
        Assert.That(ArchiveCodec.Inspect(Sample).ModelBlocks, Is.GreaterThanOrEqualTo(1));
        for (int length = 0; length < Sample.Length; length++)
        {
            byte[] cut = Sample[..length];
            Assert.Throws(Is.InstanceOf<Z4AiException>(), () => ArchiveCodec.Decompress(cut), $"truncated to {length}");
        }
    }

    [Test]
    public void Decompress_Version3SampleBitFlips_ThrowOrRestoreExactly()
    {
        for (int bit = 0; bit < Sample.Length * 8; bit += bit < 256 ? 1 : 5)
        {
            byte[] flipped = (byte[])Sample.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                Assert.That(ArchiveCodec.Decompress(flipped), Is.EqualTo(Original), $"bit {bit}: decoded to wrong bytes");
            }
            catch (Z4AiException)
            {
            }
        }
    }

    [Test]
    public void Decompress_Version3FrameRelabelledAsVersion2_NeverReturnsWrongBytes()
    {
        // Byte 6 is the model version: a v3 payload decoded by the v2 model must fail (payload end or SHA-256).
        byte[] forged = (byte[])Sample.Clone();
        Assert.That(forged[6], Is.EqualTo(3));
        forged[6] = 2;
        Assert.Throws(Is.InstanceOf<Z4AiException>(), () => ArchiveCodec.Decompress(forged));
    }

    [Test]
    public void Decompress_Version4_ThrowsUnsupportedVersionNamingIt()
    {
        byte[] forged = (byte[])Sample.Clone();
        forged[6] = 4;
        var ex = Assert.Throws<Z4AiFormatException>(() => ArchiveCodec.Decompress(forged));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
            Assert.That(ex.Message, Does.Contain("model id 1 version 4"));
            Assert.That(ex.Message, Does.Contain("v1 to v3"));
        });
    }
}
