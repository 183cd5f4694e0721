using System.Buffers.Binary;
using CommunityToolkit.HighPerformance.Buffers;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// The packed model-delta index (footer flag bit 0, docs/delta-format.md 2.3a): written only when smaller, read back
/// exactly, and every damaged, truncated, bombed or lying packed index rejected with a format or integrity exception.
/// </summary>
[NonParallelizable]
public class ModelDeltaPackedIndexTests
{
    private string _dir = null!;
    private string _base = null!;
    private byte[] _target = null!;
    private byte[] _sample = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-packed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);

        // Many small tensors with long, similar names: the index is most of the delta and packs well.
        var @base = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var target = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < 24; i++)
        {
            string name = $"model.layers.{i}.self_attn.q_proj.weight";
            @base[name] = ModelDeltaModels.Gaussian(DType.BF16, [4, 16], seed: i);
            target[name] = i % 3 == 0 ? ModelDeltaModels.Step(@base[name], 0.05, seed: 100 + i) : @base[name];
        }

        target["model.norm.weight"] = ModelDeltaModels.Gaussian(DType.F32, [16], seed: 99);
        _base = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SaveRaw(_dir, "target", target, reverse: false, metadata: null);
        _target = File.ReadAllBytes(targetPath);
        string delta = Path.Combine(_dir, "sample.z4delta");
        DeltaCodec.CompressFileCore(targetPath, _base, delta, new ModelDeltaWriterOptions { ChunkSize = 64, FrameSize = 64, SegmentSize = 512 }, null, default);
        _sample = File.ReadAllBytes(delta);
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Write_LargeIndex_PacksItSmallerThanPlainAndRestores()
    {
        Assert.That(Flags(_sample), Is.EqualTo(ModelDeltaFormat.FlagPackedIndex));
        byte[] plain = PlainForm(_sample);
        Assert.That(Flags(plain), Is.Zero);
        Assert.That(_sample.Length, Is.LessThan(plain.Length));
        TestContext.Out.WriteLine($"packed {_sample.Length} bytes, plain {plain.Length} bytes");
        Assert.That(Restore(_sample), Is.EqualTo(_target));
        Assert.That(Restore(plain), Is.EqualTo(_target), "a plain index (flag 0) still reads");
        Assert.That(DeltaCodec.InspectFile(Write(_sample)).Tensors, Has.Count.EqualTo(25));
    }

    [Test]
    public void Write_TinyIndex_StaysPlain()
    {
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["w"] = ModelDeltaModels.Gaussian(DType.F32, [8], seed: 1) };
        string path = ModelDeltaModels.SavePlain(_dir, "tiny", model);
        string delta = Path.Combine(_dir, "tiny.z4delta");
        DeltaCodec.CompressFile(path, path, delta);
        Assert.That(Flags(File.ReadAllBytes(delta)), Is.Zero);
    }

    [TestCase((ushort)0x0002)]
    [TestCase((ushort)0x8001)]
    public void Open_UnknownFooterFlag_ThrowsUnsupportedVersion(ushort flags)
    {
        byte[] file = (byte[])_sample.Clone();
        (long offset, int length) = IndexBounds(file);
        ModelDeltaFormat.WriteFooter(file.AsSpan(file.Length - ModelDeltaFormat.FooterLength), offset, length, ContainerFormat.Checksum(file.AsSpan((int)offset, length)), flags);
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.InspectFile(Write(file)))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
    }

    [Test]
    public void Open_PackedFlagInFileHeader_ThrowsUnsupportedVersion()
    {
        byte[] file = (byte[])_sample.Clone();
        file[6] = 1;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.InspectFile(Write(file)))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
    }

    [Test]
    public void Open_PackedFlagOnPlainIndex_ThrowsFormatException()
    {
        byte[] file = PlainForm(_sample);
        (long offset, int length) = IndexBounds(file);
        ModelDeltaFormat.WriteFooter(file.AsSpan(file.Length - ModelDeltaFormat.FooterLength), offset, length, ContainerFormat.Checksum(file.AsSpan((int)offset, length)), ModelDeltaFormat.FlagPackedIndex);
        Assert.Throws(Is.InstanceOf<Z4AiFormatException>(), () => DeltaCodec.InspectFile(Write(file)));
    }

    [Test]
    public void Decompress_EveryTruncationOfIndexAndFooter_ThrowsFormatException()
    {
        (long offset, _) = IndexBounds(_sample);
        for (int length = (int)offset - 8; length < _sample.Length; length++)
        {
            AssertRejectedOrExact(_sample[..length], $"length {length}", mustReject: true);
        }
    }

    [Test]
    public void Decompress_EveryPackedIndexBitFlippedAndResealed_ThrowsOrRestoresExactly()
    {
        (long offset, int length) = IndexBounds(_sample);
        for (int i = 0; i < length; i++)
        {
            for (int bit = 0; bit < 8; bit += 3)
            {
                byte[] forged = (byte[])_sample.Clone();
                forged[offset + i] ^= (byte)(1 << bit);
                Reseal(forged);
                AssertRejectedOrExact(forged, $"index byte {i} bit {bit}", mustReject: false);
            }
        }
    }

    [Test]
    public void Decompress_EveryFileByteFlippedUnsealed_ThrowsOrRestoresExactly()
    {
        for (int i = 0; i < _sample.Length; i++)
        {
            byte[] damaged = (byte[])_sample.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            AssertRejectedOrExact(damaged, $"byte {i}", mustReject: false);
        }
    }

    [TestCase(ContainerFormat.IndexPackZstd, 1L << 30, TestName = "Open_BombDeclaringOneGiBFromTinyPayload_ThrowsLimitExceeded")]
    [TestCase(ContainerFormat.IndexPackZstd, (1L << 30) + 1, TestName = "Open_DeclaredLengthOverFormatLimit_ThrowsLimitExceeded")]
    [TestCase(ContainerFormat.IndexPackContextMixing, (1L << 20) + 1, TestName = "Open_ContextMixingOverItsLimit_ThrowsLimitExceeded")]
    [TestCase(ContainerFormat.IndexPackZstd, long.MaxValue, TestName = "Open_DeclaredLengthHuge_ThrowsLimitExceeded")]
    public void OpenWithDeclaredLength(byte method, long declared)
    {
        byte[] payload = Payload(_sample);
        byte[] forged = WithPackedIndex(_sample, [method, .. VarIntBytes((ulong)declared), .. payload]);
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.InspectFile(Write(forged)))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
    }

    [TestCase(-1)]
    [TestCase(1)]
    [TestCase(-100)]
    public void Open_LyingUnpackedLength_ThrowsInvalidContainer(int error)
    {
        byte[] packed = PackedIndex(_sample);
        byte method = packed[0];
        ulong length = new SpanReader(packed.AsSpan(1)).ReadVarUInt64();
        byte[] forged = WithPackedIndex(_sample, [method, .. VarIntBytes((ulong)((long)length + error)), .. Payload(_sample)]);
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.InspectFile(Write(forged)))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.FilePath, Is.Not.Null);
    }

    [TestCase((byte)0)]
    [TestCase((byte)3)]
    [TestCase((byte)255)]
    public void Open_UnknownPackingMethod_ThrowsUnsupportedVersion(byte method)
    {
        byte[] packed = PackedIndex(_sample);
        packed[0] = method;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.InspectFile(Write(WithPackedIndex(_sample, packed))))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
    }

    [Test]
    public void Open_PackedIndexThatParsesBadly_NamesTheUnpackedPosition()
    {
        // A valid packing of an index whose chunk size is 0: the message points into the unpacked bytes.
        byte[] plain = ModelDeltaIndexBytes(_sample);
        plain[0] = 0;
        plain[1] = 0;
        byte[] packed = ContainerIndexPacking.TryPack(plain, long.MaxValue)!;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.InspectFile(Write(WithPackedIndex(_sample, packed))))!;
        Assert.That(ex.Message, Does.Contain("of the unpacked index"));
    }

    private static ushort Flags(byte[] file) => BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(file.Length - ModelDeltaFormat.FooterLength + 6));

    private static (long Offset, int Length) IndexBounds(byte[] file) => ModelDeltaRestoreKit.IndexBounds(file);

    private static byte[] PackedIndex(byte[] file)
    {
        (long offset, int length) = IndexBounds(file);
        return file.AsSpan((int)offset, length).ToArray();
    }

    // The compressed bytes after the method byte and the varint length.
    private static byte[] Payload(byte[] file)
    {
        byte[] packed = PackedIndex(file);
        var reader = new SpanReader(packed.AsSpan(1));
        reader.ReadVarUInt64();
        return packed[(1 + reader.Position)..];
    }

    private static byte[] ModelDeltaIndexBytes(byte[] file)
    {
        (long offset, int length) = IndexBounds(file);
        return ContainerIndexPacking.Unpack(file.AsSpan((int)offset, length), offset, ModelDeltaFormat.MaxIndexLength, ModelDeltaFormat.MaxIndexLength);
    }

    // The same file with its index stored plain and flag 0, as a writer before packing made it.
    private static byte[] PlainForm(byte[] file) => WithIndex(file, ModelDeltaIndexBytes(file), 0);

    private static byte[] WithPackedIndex(byte[] file, byte[] packed) => WithIndex(file, packed, ModelDeltaFormat.FlagPackedIndex);

    private static byte[] WithIndex(byte[] file, byte[] index, ushort flags)
    {
        (long offset, _) = IndexBounds(file);
        byte[] result = new byte[offset + index.Length + ModelDeltaFormat.FooterLength];
        file.AsSpan(0, (int)offset).CopyTo(result);
        index.CopyTo(result.AsSpan((int)offset));
        ModelDeltaFormat.WriteFooter(result.AsSpan(result.Length - ModelDeltaFormat.FooterLength), offset, index.Length, ContainerFormat.Checksum(index), flags);
        return result;
    }

    // Recomputes the index and footer checksums after the index bytes were edited, keeping the flags.
    private static void Reseal(byte[] file)
    {
        (long offset, int length) = IndexBounds(file);
        ModelDeltaFormat.WriteFooter(
            file.AsSpan(file.Length - ModelDeltaFormat.FooterLength), offset, length, ContainerFormat.Checksum(file.AsSpan((int)offset, length)), Flags(file));
    }

    private static byte[] VarIntBytes(ulong value)
    {
        using var output = new ArrayPoolBufferWriter<byte>();
        Z4Ai.Internal.VarInt.Write(output, value);
        return output.WrittenSpan.ToArray();
    }

    private ModelDeltaRestoreKit Kit => new(_dir, _base, _target);

    private string Write(byte[] delta) => Kit.Write(delta);

    private byte[] Restore(byte[] delta) => Kit.Restore(delta);

    private void AssertRejectedOrExact(byte[] delta, string what, bool mustReject) => Kit.AssertRejectedOrExact(delta, what, mustReject);
}
