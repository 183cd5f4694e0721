using System.Buffers.Binary;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Format;
using Z4Ai.Integrity;
using Z4Ai.Tests.Delta;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// Model-delta files end to end, pinned exactly: the reader's rejections of a damaged header, footer and index
/// (kind, offset, message), the segment checksum, the report and inspection, the progress each stage reports, the
/// base checks of <see cref="ModelDeltaLinkSource.CheckBase"/> with their messages, and partial reads of a link
/// (cached segments, the running SHA-256 of consecutive reads).
/// </summary>
[NonParallelizable]
public class FormatModelDeltaFileMutationTests
{
    private static readonly ModelDeltaWriterOptions Options = new() { ChunkSize = 64, FrameSize = 64, SegmentSize = 512, MaxDegreeOfParallelism = 1 };

    private string _dir = null!;
    private Dictionary<string, Tensor> _baseTensors = null!;
    private Dictionary<string, Tensor> _targetTensors = null!;
    private string _base = null!;
    private string _target = null!;
    private string _delta = null!;
    private byte[] _sample = null!;
    private ModelDeltaReport _report = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-mut-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);

        // "a" is a delta of three segments (512, 512, 256 bytes), "b" a copy, "d" scratch, "e" empty.
        _baseTensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["a"] = ModelDeltaModels.Gaussian(DType.BF16, [8, 80], seed: 1),
            ["b"] = ModelDeltaModels.Gaussian(DType.F32, [12], seed: 2),
            ["c"] = ModelDeltaModels.Gaussian(DType.BF16, [16], seed: 3),
        };
        _targetTensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["a"] = ModelDeltaModels.Step(_baseTensors["a"], 0.05, seed: 4),
            ["b"] = _baseTensors["b"],
            ["d"] = ModelDeltaModels.Gaussian(DType.F32, [8], seed: 5),
            ["e"] = new Tensor(DType.F32, [0], Array.Empty<byte>()),
        };
        _base = ModelDeltaModels.SavePlain(_dir, "base", _baseTensors);
        _target = ModelDeltaModels.SaveRaw(_dir, "target", _targetTensors, reverse: false, metadata: "{\"k\":\"v\"}");
        _delta = Path.Combine(_dir, "sample.z4delta");
        _report = DeltaCodec.CompressFileCore(_target, _base, _delta, Options, null, default);
        _sample = File.ReadAllBytes(_delta);
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Write_Report_DescribesEveryTensorAsInspectDoes()
    {
        Assert.That(_report.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a", "b", "d", "e" }));
        Assert.That(_report.Tensors.Select(t => t.Mode), Is.EqualTo(new[] { ModelDeltaTensorMode.Delta, ModelDeltaTensorMode.Copy, ModelDeltaTensorMode.Scratch, ModelDeltaTensorMode.Scratch }));
        Assert.That(_report.TargetBytes, Is.EqualTo(new FileInfo(_target).Length));
        Assert.That(_report.OutputBytes, Is.EqualTo(_sample.Length));
        Assert.That(_report.Elapsed, Is.GreaterThan(TimeSpan.Zero));
        Assert.That(_report.TargetModelSha256, Is.EqualTo(Digest(_targetTensors).ToString()));
        Assert.That(_report.BaseModelSha256, Is.EqualTo(Digest(_baseTensors).ToString()));

        ModelDeltaTensorInfo a = _report.Tensors[0];
        Assert.That((a.DType, a.RawBytes, a.BaseTensor, a.BaseDType, a.Sha256, a.BaseSha256), Is.EqualTo((DType.BF16, 1280L, "a", (DType?)DType.BF16, Sha(_targetTensors["a"]), Sha(_baseTensors["a"]))));
        Assert.That(a.Shape, Is.EqualTo(new long[] { 8, 80 }));
        Assert.That(a.BaseShape, Is.EqualTo(new long[] { 8, 80 }));
        Assert.That(a.ChunkModes, Has.Count.EqualTo(20));
        ModelDeltaTensorInfo b = _report.Tensors[1];
        Assert.That((b.StoredBytes, b.BaseTensor, b.ChunkModes.Count), Is.EqualTo((0L, "b", 0)));
        ModelDeltaTensorInfo d = _report.Tensors[2];
        Assert.That((d.BaseTensor, d.BaseDType, d.BaseShape, d.BaseSha256), Is.EqualTo(((string?)null, (DType?)null, (IReadOnlyList<long>?)null, (string?)null)));
        Assert.That(d.ChunkModes, Is.EqualTo(new[] { DeltaChunkMode.Scratch }));
        Assert.That(_report.Tensors[3].ChunkModes, Is.Empty);

        ModelDeltaInfo info = DeltaCodec.InspectFile(_delta);
        Assert.That((info.FilePath, info.FileLength, info.FormatVersion, info.ChunkSize, info.FrameSize, info.SegmentSize), Is.EqualTo((_delta, (long)_sample.Length, 1, 64, 64, 512)));
        Assert.That((info.BaseModelSha256, info.BaseTensorCount, info.TargetModelSha256, info.HeaderSynthesized), Is.EqualTo((_report.BaseModelSha256, 3L, _report.TargetModelSha256, false)));
        Assert.That(info.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["k"] = "v" }));
        for (int i = 0; i < info.Tensors.Count; i++)
        {
            ModelDeltaTensorInfo x = info.Tensors[i];
            ModelDeltaTensorInfo y = _report.Tensors[i];
            Assert.That((x.Name, x.Mode, x.StoredBytes, x.Sha256, x.BaseTensor, x.BaseSha256, x.RawBytes), Is.EqualTo((y.Name, y.Mode, y.StoredBytes, y.Sha256, y.BaseTensor, y.BaseSha256, y.RawBytes)));
            Assert.That(x.ChunkModes, Is.EqualTo(y.ChunkModes), x.Name);
        }
    }

    [Test]
    public void Write_Progress_HashesBothInputsThenReportsEveryTensorInOrder()
    {
        var progress = new Recorder();
        DeltaCodec.CompressFileCore(_target, _base, Path.Combine(_dir, "p.z4delta"), Options, progress, default);
        long baseTotal = _baseTensors.Values.Sum(t => (long)t.Data.Length);
        long targetTotal = _targetTensors.Values.Sum(t => (long)t.Data.Length);

        // One worker hashes the largest tensor first.
        Assert.That(progress.Stage("hash base"), Is.EqualTo(new[] { ("a", 1280L, baseTotal), ("b", 1328L, baseTotal), ("c", 1360L, baseTotal) }));
        Assert.That(progress.Stage("hash target"), Has.Count.EqualTo(4));
        Assert.That(progress.Stage("hash target")[^1].Done, Is.EqualTo(targetTotal));
        Assert.That(progress.Stage("delta"), Is.EqualTo(new[] { ("a", 1280L, targetTotal), ("b", 1328L, targetTotal), ("d", 1360L, targetTotal), ("e", 1360L, targetTotal) }));
    }

    [Test]
    public void Restore_Progress_ReportsEveryNonEmptyTensorInOrder()
    {
        var progress = new Recorder();
        string output = Path.Combine(_dir, "restored.safetensors");
        DeltaCodec.DecompressFile(_delta, _base, output, progress);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(_target)));
        long total = 1360;
        Assert.That(progress.Stage("undelta"), Is.EqualTo(new[] { ("a", 1280L, total), ("b", 1328L, total), ("d", 1360L, total) }));
        Assert.That(progress.Stage("hash base"), Has.Count.EqualTo(3));
    }

    [Test]
    public void Write_InvalidLayout_ThrowsArgumentOutOfRangeNamingTheSegmentSize()
    {
        var options = new ModelDeltaWriterOptions { ChunkSize = 64, FrameSize = 64, SegmentSize = 96 };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => DeltaCodec.CompressFileCore(_target, _base, Path.Combine(_dir, "x.z4delta"), options, null, default))!;
        Assert.That(ex.ParamName, Is.EqualTo("options"));
        Assert.That(ex.ActualValue, Is.EqualTo(96));
        Assert.That(ex.Message, Does.StartWith("the chunk and frame sizes must be multiples of 8 from 64 to 2^28"));
        Assert.That(File.Exists(Path.Combine(_dir, "x.z4delta")), Is.False);
    }

    [Test]
    public void WriterOptions_Defaults_AreTheDocumentedOnes()
    {
        var options = new ModelDeltaWriterOptions();
        Assert.That(options.ChunkSize, Is.EqualTo(DeltaOptions.DefaultChunkSize));
        Assert.That(options.FrameSize, Is.EqualTo(4 << 20));
        Assert.That(options.SegmentSize, Is.EqualTo(0));
        Assert.That(options.EffectiveSegmentSize, Is.EqualTo(8 << 20));
        Assert.That(new ModelDeltaWriterOptions { SegmentSize = 1024 }.EffectiveSegmentSize, Is.EqualTo(1024));
        Assert.That(options.Effort, Is.EqualTo(CompressionEffort.Default));
    }

    [Test]
    public void Sample_FileLayout_HeaderSegmentsIndexFooter()
    {
        Assert.That(_sample.AsSpan(0, 8).ToArray(), Is.EqualTo("Z4AM\u0001\0\0\0"u8.ToArray()));
        (long indexOffset, int indexLength) = ModelDeltaRestoreKit.IndexBounds(_sample);
        Assert.That(indexOffset + indexLength + ModelDeltaFormat.FooterLength, Is.EqualTo(_sample.Length));
        using ModelDeltaReader reader = ModelDeltaReader.Open(_delta);
        Assert.That(reader.FileLength, Is.EqualTo(_sample.Length));
        Assert.That(reader.FilePath, Is.EqualTo(_delta));
        ModelDeltaEntry a = reader.ByName["a"];
        Assert.That(a.Segments.Select(s => s.Offset).First(), Is.EqualTo(8));
        Assert.That(reader.Index.Entries.Sum(e => e.StoredLength), Is.EqualTo(indexOffset - 8));
        Assert.That(reader.ByName.Keys, Is.EquivalentTo(new[] { "a", "b", "d", "e" }));
        Assert.That(a.Segments, Has.Length.EqualTo(3));
        Assert.That(a.Segments.Count(s => s.Kind == ModelDeltaFormat.SegmentDelta), Is.GreaterThan(0));
    }

    [TestCase(0)]
    [TestCase(47)]
    public void Open_ShorterThanHeaderAndFooter_Fails(int length)
    {
        var ex = OpenFails(_sample[..length]);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.InvalidContainer, (long?)0)));
        Assert.That(ex.Detail, Is.EqualTo($"{length} bytes is too short for a model delta (at least 48)"));
    }

    [Test]
    public void Open_ExactlyHeaderAndFooterLong_PassesTheLengthCheck()
    {
        var ex = OpenFails([.. _sample[..8], .. _sample[^40..]]);
        Assert.That(ex.Detail, Does.Not.Contain("too short"));
    }

    [Test]
    public void Open_WrongMagic_Fails()
    {
        byte[] file = [.. _sample];
        file[3] = (byte)'Z';
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.InvalidContainer, (long?)0)));
        Assert.That(ex.Detail, Is.EqualTo("the file does not start with the model-delta magic \"Z4AM\""));
    }

    [Test]
    public void Open_HeaderVersionTwo_IsUnsupportedAtOffsetFour()
    {
        byte[] file = [.. _sample];
        file[4] = 2;
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.UnsupportedVersion, (long?)4)));
        Assert.That(ex.Detail, Is.EqualTo("model-delta format version 2; this reader knows version 1"));
    }

    [Test]
    public void Open_AnyHeaderFlag_IsUnsupportedAtOffsetSix()
    {
        byte[] file = [.. _sample];
        file[6] = (byte)ModelDeltaFormat.FlagPackedIndex;
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.UnsupportedVersion, (long?)6)));
        Assert.That(ex.Detail, Is.EqualTo($"model-delta flags 0x{ModelDeltaFormat.FlagPackedIndex:x4} name features this reader does not know"));
    }

    [Test]
    public void Open_NoFooterMagic_FailsAtTheFooter()
    {
        byte[] file = [.. _sample];
        file[^40] = 0;
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.InvalidContainer, (long?)(file.Length - 40))));
        Assert.That(ex.Detail, Is.EqualTo("no footer magic at the end: the file is truncated or was never completed"));
    }

    [Test]
    public void Open_FooterChecksumWrong_FailsAtTheFooter()
    {
        byte[] file = [.. _sample];
        file[^1] ^= 1;
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.InvalidContainer, (long?)(file.Length - 40))));
        Assert.That(ex.Detail, Is.EqualTo("the footer checksum does not match"));
    }

    [Test]
    public void Open_FooterVersionTwo_IsUnsupportedInTheFooter()
    {
        byte[] file = Refoot(_sample, version: 2);
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.UnsupportedVersion, (long?)(file.Length - 40 + 4))));
    }

    [Test]
    public void Open_UnknownFooterFlag_IsUnsupportedInTheFooter()
    {
        byte[] file = Refoot(_sample, flags: 0x0100);
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.UnsupportedVersion, (long?)(file.Length - 40 + 6))));
        Assert.That(ex.Detail, Is.EqualTo("model-delta flags 0x0100 name features this reader does not know"));
    }

    [Test]
    public void Open_IndexLongerThanTheLimit_IsALimit()
    {
        byte[] file = Refoot(_sample, indexLength: ModelDeltaFormat.MaxIndexLength + 1);
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.LimitExceeded, (long?)(file.Length - 40 + 16))));
        Assert.That(ex.Detail, Is.EqualTo($"the index is {ModelDeltaFormat.MaxIndexLength + 1} bytes, more than the {ModelDeltaFormat.MaxIndexLength} allowed"));
    }

    [Test]
    public void Open_IndexExactlyAtTheLimit_FailsOnlyItsPlacement()
    {
        byte[] file = Refoot(_sample, indexLength: ModelDeltaFormat.MaxIndexLength);
        var ex = OpenFails(file);
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Offset, Is.EqualTo(file.Length - 40 + 8));
    }

    [TestCase(-1, 0)]
    [TestCase(1, 0)]
    [TestCase(0, 1)]
    [TestCase(0, -1)]
    public void Open_IndexNotEndingAtTheFooter_Fails(int offsetShift, int lengthShift)
    {
        (long indexOffset, int indexLength) = ModelDeltaRestoreKit.IndexBounds(_sample);
        long footerOffset = _sample.Length - 40;
        byte[] file = Refoot(_sample, indexOffset: indexOffset + offsetShift, indexLength: indexLength + lengthShift);
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.InvalidContainer, (long?)(footerOffset + 8))));
        Assert.That(ex.Detail, Is.EqualTo($"the footer places the index at [{indexOffset + offsetShift}, {indexOffset + offsetShift}+{indexLength + lengthShift}), but it must end where the footer starts, at {footerOffset}"));
    }

    [Test]
    public void Open_IndexStartingInsideTheFileHeader_Fails()
    {
        long footerOffset = _sample.Length - 40;
        byte[] file = Refoot(_sample, indexOffset: 7, indexLength: footerOffset - 7);
        var ex = OpenFails(file);
        Assert.That(ex.Offset, Is.EqualTo(footerOffset + 8));
        Assert.That(ex.Detail, Does.StartWith("the footer places the index at [7, 7+"));
    }

    [Test]
    public void Open_IndexAfterTheFooterStart_Fails()
    {
        long footerOffset = _sample.Length - 40;
        byte[] file = Refoot(_sample, indexOffset: footerOffset + 1, indexLength: 0);
        var ex = OpenFails(file);
        Assert.That(ex.Offset, Is.EqualTo(footerOffset + 8));
        Assert.That(ex.Detail, Does.StartWith($"the footer places the index at [{footerOffset + 1}, "));
    }

    [Test]
    public void Open_IndexChecksumWrong_FailsAtTheIndex()
    {
        (long indexOffset, int indexLength) = ModelDeltaRestoreKit.IndexBounds(_sample);
        byte[] file = Refoot(_sample, checksum: 12345);
        var ex = OpenFails(file);
        Assert.That((ex.Kind, ex.Offset), Is.EqualTo((Z4AiErrorKind.InvalidContainer, (long?)indexOffset)));
        Assert.That(ex.Detail, Is.EqualTo("the index checksum does not match"));
        Assert.That(indexLength, Is.GreaterThan(0));
    }

    [Test]
    public void Open_IndexParseError_IsNamedInTheFile()
    {
        // The plain index with trailing bytes, resealed: the parser's absolute offset and the file's path come through.
        (long indexOffset, byte[] plainIndex) = PlainIndex(_sample);
        int indexLength = plainIndex.Length;
        byte[] index = [.. plainIndex, 0];
        byte[] file = WithIndex(_sample, indexOffset, index, flags: 0);
        var ex = OpenFails(file);
        Assert.That(ex.Offset, Is.EqualTo(indexOffset + indexLength));
        Assert.That(ex.FilePath, Is.EqualTo(Path.Combine(_dir, "damaged.z4delta")));
        Assert.That(ex.Detail, Is.EqualTo("1 unexpected bytes after the last entry"));
    }

    [Test]
    public void Open_PackedIndexParseError_NamesThePositionInTheUnpackedIndex()
    {
        (long indexOffset, byte[] plainIndex) = PlainIndex(_sample);
        int indexLength = plainIndex.Length;
        byte[] plain = [.. plainIndex, 0, 0];
        byte[] packed = ContainerIndexPacking.TryPack(plain, int.MaxValue) ?? throw new AssertionException("packing failed");
        byte[] file = WithIndex(_sample, indexOffset, packed, flags: ModelDeltaFormat.FlagPackedIndex);
        var ex = OpenFails(file);
        Assert.That(ex.Offset, Is.EqualTo(indexOffset));
        Assert.That(ex.Detail, Is.EqualTo($"2 unexpected bytes after the last entry (at byte {indexLength} of the unpacked index)"));
        Assert.That(ex.InnerException, Is.InstanceOf<Z4AiFormatException>());
    }

    [Test]
    public void Open_PackedIndexThatParses_IsAccepted()
    {
        (long indexOffset, byte[] plainIndex) = PlainIndex(_sample);
        byte[] packed = ContainerIndexPacking.TryPack(plainIndex, int.MaxValue) ?? throw new AssertionException("packing failed");
        string path = Path.Combine(_dir, "packed.z4delta");
        File.WriteAllBytes(path, WithIndex(_sample, indexOffset, packed, flags: ModelDeltaFormat.FlagPackedIndex));
        using ModelDeltaReader reader = ModelDeltaReader.Open(path);
        Assert.That(reader.Index.Entries, Has.Length.EqualTo(4));
    }

    [Test]
    public void ReadSegment_StoredBytesChanged_CorruptFrameNamingSegmentTensorAndOffset()
    {
        using ModelDeltaReader clean = ModelDeltaReader.Open(_delta);
        int j = Array.FindIndex(clean.ByName["a"].Segments, s => s.Kind == ModelDeltaFormat.SegmentDelta);
        int other = j == 0 ? 1 : 0;
        ModelDeltaSegment segment = clean.ByName["a"].Segments[j];
        byte[] file = [.. _sample];
        file[segment.Offset + 3] ^= 0x10;
        string path = Path.Combine(_dir, "segment.z4delta");
        File.WriteAllBytes(path, file);
        using ModelDeltaReader reader = ModelDeltaReader.Open(path);
        ModelDeltaSegment intact = reader.ByName["a"].Segments[other];
        byte[] good = reader.ReadSegment(reader.ByName["a"], other);
        Assert.That(good.AsSpan(0, intact.StoredLength).ToArray(), Is.EqualTo(_sample.AsSpan((int)intact.Offset, intact.StoredLength).ToArray()));
        var ex = Assert.Throws<Z4AiFormatException>(() => reader.ReadSegment(reader.ByName["a"], j))!;
        ulong actual = ContainerFormat.Checksum(file.AsSpan((int)segment.Offset, segment.StoredLength));
        Assert.That((ex.Kind, ex.Offset, ex.TensorName, ex.FilePath), Is.EqualTo((Z4AiErrorKind.CorruptFrame, (long?)segment.Offset, "a", path)));
        Assert.That(ex.Detail, Is.EqualTo($"segment {j} fails its checksum (expected {segment.Checksum:x16}, got {actual:x16}); the file is corrupt"));
        Assert.Throws<Z4AiFormatException>(() => reader.Inspect());
    }

    [Test]
    public void Inspect_MalformedDeltaSegmentWithValidChecksum_NamesSegmentTensorAndOffset()
    {
        using ModelDeltaReader clean = ModelDeltaReader.Open(_delta);
        int j = Array.FindIndex(clean.ByName["a"].Segments, s => s.Kind == ModelDeltaFormat.SegmentDelta);
        ModelDeltaSegment segment = clean.ByName["a"].Segments[j];
        byte[] file = [.. _sample];
        file[segment.Offset] ^= 0xFF; // the Z4AD magic
        string path = Path.Combine(_dir, "inspect.z4delta");
        File.WriteAllBytes(path, Reseal(file, clean.Index));
        using ModelDeltaReader reader = ModelDeltaReader.Open(path);
        var ex = Assert.Throws<Z4AiFormatException>(() => reader.Inspect())!;
        Assert.That((ex.Offset, ex.TensorName, ex.FilePath), Is.EqualTo(((long?)segment.Offset, "a", path)));
        Assert.That(ex.Detail, Does.StartWith($"segment {j}: "));
    }

    [Test]
    public void CheckBase_BaseWithoutAUsedTensor_NamesItAndTheModels()
    {
        var @base = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal);
        @base.Remove("b");
        var ex = RestoreFails(@base, out string basePath);
        Assert.That((ex.Kind, ex.TensorName, ex.FilePath), Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, "b", _delta)));
        Assert.That(ex.Detail, Is.EqualTo(
            $"wrong base: the delta was made against base model SHA-256 {_report.BaseModelSha256} (3 tensors), but the base ({basePath}) is model {Digest(@base)} (2 tensors): "
            + $"it has no tensor 'b' (expected F32[12] with SHA-256 {Sha(_baseTensors["b"])}) (needed by tensor 'b')"));
    }

    [Test]
    public void CheckBase_UsedTensorOfOtherShape_NamesBothLayouts()
    {
        var @base = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal) { ["a"] = new Tensor(DType.BF16, [640], _baseTensors["a"].Data) };
        var ex = RestoreFails(@base, out _);
        Assert.That(ex.TensorName, Is.EqualTo("a"));
        Assert.That(ex.Detail, Does.EndWith($": its tensor 'a' is BF16[640], expected BF16[8,80] with SHA-256 {Sha(_baseTensors["a"])} (needed by tensor 'a')"));
    }

    [Test]
    public void CheckBase_UsedTensorOfOtherDType_NamesBothLayouts()
    {
        var @base = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal) { ["a"] = new Tensor(DType.F16, [8, 80], _baseTensors["a"].Data) };
        var ex = RestoreFails(@base, out _);
        Assert.That(ex.Detail, Does.Contain(": its tensor 'a' is F16[8,80], expected BF16[8,80]"));
    }

    [Test]
    public void CheckBase_UsedTensorWithOtherBytes_NamesBothDigests()
    {
        var @base = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal) { ["b"] = ModelDeltaModels.Gaussian(DType.F32, [12], seed: 77) };
        var ex = RestoreFails(@base, out _);
        Assert.That(ex.TensorName, Is.EqualTo("b"));
        Assert.That(ex.Detail, Does.EndWith($": its tensor 'b' has SHA-256 {Sha(@base["b"])}, expected {Sha(_baseTensors["b"])} (needed by tensor 'b')"));
    }

    [Test]
    public void CheckBase_OnlyAnUnusedTensorDiffers_NamesTheModels()
    {
        var @base = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal) { ["c"] = ModelDeltaModels.Gaussian(DType.BF16, [16], seed: 78) };
        var ex = RestoreFails(@base, out string basePath);
        Assert.That((ex.Kind, ex.TensorName, ex.FilePath), Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, (string?)null, _delta)));
        Assert.That(ex.Detail, Is.EqualTo(
            $"wrong base: the delta was made against base model SHA-256 {_report.BaseModelSha256} (3 tensors), but the base ({basePath}) is model {Digest(@base)} (3 tensors); the tensors the delta uses match, others differ"));
    }

    [Test]
    public void DecompressChain_LinkOnTheWrongModel_NamesTheLinkAndTheModelBelow()
    {
        // Link 2 was made against the base, not against the target link 1 rebuilds.
        string second = Path.Combine(_dir, "second.z4delta");
        DeltaCodec.CompressFileCore(_target, _base, second, Options, null, default);
        string output = Path.Combine(_dir, "chain.safetensors");
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressChain([_delta, second], _base, output))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.FilePath, Is.EqualTo(second));
        Assert.That(ex.Detail, Does.StartWith($"broken chain: link 2 was made against base model SHA-256 {_report.BaseModelSha256} (3 tensors), but the model link 1 rebuilds ({_delta}) is model {_report.TargetModelSha256} (4 tensors)"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void DecompressChain_WrongRootBase_NamesLinkOne()
    {
        var other = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal) { ["c"] = ModelDeltaModels.Gaussian(DType.BF16, [16], seed: 79) };
        string otherPath = ModelDeltaModels.SavePlain(_dir, "other-root", other);
        string output = Path.Combine(_dir, "chain.safetensors");
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressChain([_delta, _delta], otherPath, output))!;
        Assert.That(ex.Detail, Does.StartWith("wrong base: link 1 of the chain was made against"));
        Assert.That(ex.Detail, Does.Contain($"but the base ({otherPath}) is model"));
    }

    [Test]
    public void LinkSource_Identity_IsTheTargets()
    {
        using ModelDeltaLinkSource link = Link(_delta);
        Assert.That(link.ModelDigest.ToString(), Is.EqualTo(_report.TargetModelSha256));
        Assert.That(link.DisplayName, Is.EqualTo(_delta));
        Assert.That(link.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a", "b", "d", "e" }));
        Assert.That(link.TryGetTensor("d", out ModelTensor? d), Is.True);
        Assert.That(d!.Length, Is.EqualTo(32));
        Assert.That(link.TryGetTensor("c", out _), Is.False);
        Assert.That(link.Reader.Index.Entries, Has.Length.EqualTo(4));
    }

    [TestCase(0, 1280, true)]
    [TestCase(0, 100, false)]
    [TestCase(100, 600, false)]
    [TestCase(512, 512, false)]
    [TestCase(1024, 256, false)]
    [TestCase(1279, 1, false)]
    [TestCase(500, 780, false)]
    public void LinkSource_ReadOfADeltaTensor_ReturnsExactlyThoseBytes(int offset, int length, bool verified)
    {
        using ModelDeltaLinkSource link = Link(_delta);
        byte[] expected = _targetTensors["a"].Data.ToArray();
        byte[] buffer = new byte[length];
        Assert.That(link.Read(Tensor(link, "a"), offset, buffer, default), Is.EqualTo(verified));
        Assert.That(buffer, Is.EqualTo(expected.AsSpan(offset, length).ToArray()));
    }

    [Test]
    public void LinkSource_SmallReadsAcrossSegmentsAndTensors_UseTheRightCachedSegment()
    {
        using ModelDeltaLinkSource link = Link(_delta);
        byte[] a = _targetTensors["a"].Data.ToArray();
        byte[] d = _targetTensors["d"].Data.ToArray();
        int[] offsets = [0, 10, 520, 30, 1030, 1040, 515, 5];
        foreach (int offset in offsets)
        {
            byte[] buffer = new byte[8];
            link.Read(Tensor(link, "a"), offset, buffer, default);
            Assert.That(buffer, Is.EqualTo(a.AsSpan(offset, 8).ToArray()), $"a at {offset}");
            byte[] small = new byte[4];
            link.Read(Tensor(link, "d"), offset % 28, small, default);
            Assert.That(small, Is.EqualTo(d.AsSpan(offset % 28, 4).ToArray()), $"d at {offset % 28}");
        }
    }

    [Test]
    public void LinkSource_CopyAndScratchAndEmpty_ReadThrough()
    {
        using ModelDeltaLinkSource link = Link(_delta);
        byte[] b = new byte[48];
        Assert.That(link.Read(Tensor(link, "b"), 0, b, default), Is.False, "a plain base file does not verify");
        Assert.That(b, Is.EqualTo(_targetTensors["b"].Data.ToArray()));
        byte[] part = new byte[8];
        link.Read(Tensor(link, "b"), 40, part, default);
        Assert.That(part, Is.EqualTo(_targetTensors["b"].Data.ToArray()[40..]));
        byte[] d = new byte[32];
        Assert.That(link.Read(Tensor(link, "d"), 0, d, default), Is.True);
        Assert.That(d, Is.EqualTo(_targetTensors["d"].Data.ToArray()));
        Assert.That(link.Read(Tensor(link, "e"), 0, [], default), Is.True, "an empty tensor read whole is verified");
        Assert.That(link.Read(Tensor(link, "a"), 7, [], default), Is.False);
    }

    [Test]
    public void LinkSource_ForgedDigest_WholeReadFails()
    {
        using ModelDeltaLinkSource link = Link(Forge("d"));
        var ex = Assert.Throws<Z4AiIntegrityException>(() => link.Read(Tensor(link, "d"), 0, new byte[32], default))!;
        Assert.That(ex.Subject, Is.EqualTo("d"));
        Assert.That(ex.ActualDigest, Is.EqualTo(Sha(_targetTensors["d"])));
        Assert.That(ex.ExpectedDigest, Is.EqualTo(Sha256Digest.Compute("forged"u8).ToString()));
    }

    [Test]
    public void LinkSource_ForgedDigest_ConsecutivePartsFailOnTheLast()
    {
        string forged = Forge("a");
        using ModelDeltaLinkSource link = Link(forged);
        ModelTensor a = Tensor(link, "a");
        Assert.That(link.Read(a, 0, new byte[600], default), Is.False);
        Assert.That(link.Read(a, 600, new byte[600], default), Is.False);
        var ex = Assert.Throws<Z4AiIntegrityException>(() => link.Read(a, 1200, new byte[80], default))!;
        Assert.That(ex.Subject, Is.EqualTo("a"));
        Assert.That(ex.FilePath, Is.EqualTo(forged));

        // Started again from 0 after the failure: tracked afresh.
        link.Read(a, 0, new byte[1000], default);
        Assert.Throws<Z4AiIntegrityException>(() => link.Read(a, 1000, new byte[280], default));
    }

    [Test]
    public void LinkSource_ForgedDigest_PartsOutOfOrderOrInterruptedAreNotChecked()
    {
        using ModelDeltaLinkSource link = Link(Forge("a"));
        ModelTensor a = Tensor(link, "a");
        ModelTensor d = Tensor(link, "d");

        // A gap: the tracking stops.
        link.Read(a, 0, new byte[100], default);
        link.Read(a, 200, new byte[1080], default);

        // Out of order: nothing is tracked until a read from 0.
        link.Read(a, 640, new byte[640], default);
        link.Read(a, 0, new byte[640], default);

        // Another tensor's read in between: the tracking of "a" stops.
        link.Read(a, 0, new byte[640], default);
        link.Read(d, 0, new byte[16], default);
        Assert.DoesNotThrow(() => link.Read(a, 640, new byte[640], default));

        // Resumed from the start of the forged tensor after a completed other one: checked again.
        link.Read(a, 0, new byte[640], default);
        Assert.Throws<Z4AiIntegrityException>(() => link.Read(a, 640, new byte[640], default));
    }

    [Test]
    public void LinkSource_GenuineTensorReadInParts_RaisesNoFalseAlarm()
    {
        // The forged-digest tests above pass even when the running hash is not fed; these reads of the genuine
        // tensor would then fail on their last part. Each sequence brings the count to exactly the tensor's length,
        // so a check is made (or, for the overlap, would be made if the tracking did not stop).
        using ModelDeltaLinkSource link = Link(_delta);
        ModelTensor a = Tensor(link, "a");
        byte[] expected = _targetTensors["a"].Data.ToArray();

        // Consecutive parts: inside a segment, across a segment edge, then the rest (ends in the short last segment).
        byte[] first = new byte[100];
        byte[] second = new byte[500];
        byte[] rest = new byte[680];
        Assert.That(link.Read(a, 0, first, default), Is.False);
        Assert.That(link.Read(a, 100, second, default), Is.False);
        Assert.DoesNotThrow(() => link.Read(a, 600, rest, default));
        Assert.That(first.Concat(second).Concat(rest).ToArray(), Is.EqualTo(expected));

        // Interrupted after 100 bytes, then read again from 0 in two parts: the hash starts over.
        link.Read(a, 0, new byte[100], default);
        link.Read(a, 0, new byte[640], default);
        Assert.DoesNotThrow(() => link.Read(a, 640, new byte[640], default));

        // A read that starts at 50 instead of 100: not consecutive, so the tracking stops. Were it appended anyway,
        // the count would reach the tensor's 1,280 bytes (100 + 1,180) and the digest of the overlapping bytes fail.
        link.Read(a, 0, new byte[100], default);
        Assert.DoesNotThrow(() => link.Read(a, 50, new byte[1180], default));
    }

    [Test]
    public void LinkSource_CancelledReadOfAScratchTensor_StopsBeforeDecoding()
    {
        // "d" is stored from scratch, so nothing is read from the base, whose own check would otherwise see the token.
        using ModelDeltaLinkSource link = Link(_delta);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        byte[] buffer = new byte[32];
        Assert.Throws<OperationCanceledException>(() => link.Read(Tensor(link, "d"), 0, buffer, cancelled.Token));
        Assert.That(buffer, Is.All.EqualTo((byte)0));
    }

    [Test]
    public void Restore_ForgedDigestOfAnEmptyTensor_Fails()
    {
        // An empty tensor has no segment to decode; its digest is still checked against SHA-256 of no bytes.
        string output = Path.Combine(_dir, "forged-empty.safetensors");
        var ex = Assert.Throws<Z4AiIntegrityException>(() => DeltaCodec.DecompressFile(Forge("e"), _base, output))!;
        Assert.That(ex.Subject, Is.EqualTo("e"));
        Assert.That(ex.ActualDigest, Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty))));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Restore_ForgedDigestOfAMultiSegmentTensor_FailsAndLeavesNoOutput()
    {
        string output = Path.Combine(_dir, "forged.safetensors");
        var ex = Assert.Throws<Z4AiIntegrityException>(() => DeltaCodec.DecompressFile(Forge("a"), _base, output))!;
        Assert.That(ex.Subject, Is.EqualTo("a"));
        Assert.That(ex.ActualDigest, Is.EqualTo(Sha(_targetTensors["a"])));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Restore_ForgedDigestOfACopy_IsAWrongBase()
    {
        // A copy's digest is the base tensor's: forge both so the index stays consistent; the base file disagrees.
        string output = Path.Combine(_dir, "forged-copy.safetensors");
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressFile(Forge("b"), _base, output))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
    }

    [Test]
    public void FileSource_Container_WholeReadIsVerifiedAndPartsAreNot()
    {
        string container = ModelDeltaModels.Compress(_target);
        var progress = new Recorder();
        using ModelDeltaFileSource source = ModelDeltaFileSource.Open(container, "hash x", 1, progress, default);
        Assert.That(progress.Stage("hash x"), Is.Empty, "a container's digests come from its index");
        Assert.That(source.DisplayName, Is.EqualTo(container));
        Assert.That(source.ModelDigest.ToString(), Is.EqualTo(_report.TargetModelSha256));
        ModelTensor a = source.Tensors.Single(t => t.Name == "a");
        Assert.That(a.Digest.ToString(), Is.EqualTo(Sha(_targetTensors["a"])));
        byte[] whole = new byte[1280];
        Assert.That(source.Read(a, 0, whole, default), Is.True);
        Assert.That(whole, Is.EqualTo(_targetTensors["a"].Data.ToArray()));
        byte[] part = new byte[100];
        Assert.That(source.Read(a, 0, part, default), Is.False);
        Assert.That(part, Is.EqualTo(_targetTensors["a"].Data.ToArray()[..100]));
        Assert.That(source.Read(a, 1180, part, default), Is.False);
        Assert.That(part, Is.EqualTo(_targetTensors["a"].Data.ToArray()[1180..]));
    }

    [Test]
    public void FileSource_PlainFile_HashesEveryTensorLargestFirst()
    {
        var progress = new Recorder();
        using ModelDeltaFileSource source = ModelDeltaFileSource.Open(_target, "hash t", 1, progress, default);
        Assert.That(progress.Stage("hash t").Select(p => p.Tensor), Is.EqualTo(new[] { "a", "b", "d", "e" }));
        Assert.That(source.Tensors.Select(t => (t.Name, t.Digest.ToString())), Is.EqualTo(_targetTensors.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, Sha(p.Value)))));
        Assert.That(source.Tensors.Single(t => t.Name == "e").Digest.ToString(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData([]))));
        byte[] whole = new byte[48];
        Assert.That(source.Read(source.Tensors.Single(t => t.Name == "b"), 0, whole, default), Is.False);
        Assert.That(whole, Is.EqualTo(_targetTensors["b"].Data.ToArray()));
    }

    [Test]
    public void FileSource_Cancelled_Throws()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.That(() => ModelDeltaFileSource.Open(_target, "hash", 1, null, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        using ModelDeltaFileSource source = ModelDeltaFileSource.Open(_target, "hash", 1, null, default);
        Assert.That(() => source.Read(source.Tensors[0], 0, new byte[4], cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void FileSource_NotATensorFile_NamesThePath()
    {
        string path = Path.Combine(_dir, "junk.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaFileSource.Open(path, "hash", 1, null, default))!;
        Assert.That(ex.FilePath, Is.EqualTo(path));
    }

    [Test]
    public void Write_HashesOfABigTensor_AreInBlocks()
    {
        // A plain tensor larger than one 4 MiB hash block is hashed in parts to the same digest.
        byte[] big = new byte[(4 << 20) + 24];
        new Random(5).NextBytes(big);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["big"] = new Tensor(DType.U8, [big.Length], big) };
        string path = ModelDeltaModels.SavePlain(_dir, "big", tensors);
        var progress = new Recorder();
        using ModelDeltaFileSource source = ModelDeltaFileSource.Open(path, "hash", 2, progress, default);
        Assert.That(source.Tensors[0].Digest.ToString(), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(big))));
        Assert.That(progress.Stage("hash"), Is.EqualTo(new[] { ("big", (long)big.Length, (long)big.Length) }));
    }

    [Test]
    public void Write_ContainerTargetWithKeptHeader_RestoresTheOriginalFile()
    {
        string container = ModelDeltaModels.Compress(_target);
        string delta = Path.Combine(_dir, "from-container.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFileCore(container, _base, delta, Options, null, default);
        Assert.That(report.TargetBytes, Is.EqualTo(new FileInfo(container).Length));
        Assert.That(report.Tensors.Select(t => t.Mode), Is.EqualTo(_report.Tensors.Select(t => t.Mode)));
        Assert.That(DeltaCodec.InspectFile(delta).HeaderSynthesized, Is.False);
        string output = Path.Combine(_dir, "from-container.safetensors");
        DeltaCodec.DecompressFile(delta, _base, output);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(_target)));
    }

    [Test]
    public void Write_ContainerBase_ReadsItsTensorsVerified()
    {
        string container = ModelDeltaModels.Compress(_base);
        string delta = Path.Combine(_dir, "on-container.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFileCore(_target, container, delta, Options, null, default);
        Assert.That(report.BaseModelSha256, Is.EqualTo(_report.BaseModelSha256));
        Assert.That(File.ReadAllBytes(delta), Is.EqualTo(_sample), "the same delta whichever file holds the base");
        string output = Path.Combine(_dir, "on-container.safetensors");
        DeltaCodec.DecompressFile(delta, container, output);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(_target)));
    }

    [Test]
    public void Write_TargetTensorLongerThanItsBase_LaterSegmentsStandAlone()
    {
        // "a" grows from 1280 to 1600 bytes: its last segment has no base bytes behind it.
        byte[] grown = new byte[1600];
        _targetTensors["a"].Data.Span.CopyTo(grown);
        new Random(6).NextBytes(grown.AsSpan(1280));
        var target = new Dictionary<string, Tensor>(_targetTensors, StringComparer.Ordinal) { ["a"] = new Tensor(DType.BF16, [10, 80], grown) };
        string targetPath = ModelDeltaModels.SavePlain(_dir, "grown", target);
        string delta = Path.Combine(_dir, "grown.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFileCore(targetPath, _base, delta, Options, null, default);
        ModelDeltaTensorInfo a = report.Tensors.Single(t => t.Name == "a");
        Assert.That(a.Mode, Is.EqualTo(ModelDeltaTensorMode.Delta));
        Assert.That(a.ChunkModes, Has.Count.EqualTo(25));
        Assert.That(a.ChunkModes.Skip(24), Is.EqualTo(new[] { DeltaChunkMode.Scratch }));
        using (ModelDeltaReader reader = ModelDeltaReader.Open(delta))
        {
            Assert.That(reader.ByName["a"].Segments.Select(x => x.Kind).Last(), Is.EqualTo(ModelDeltaFormat.SegmentFrames));
        }

        string output = Path.Combine(_dir, "grown-restored.safetensors");
        DeltaCodec.DecompressFile(delta, _base, output);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(targetPath)));
    }

    [Test]
    public void Restore_Cancelled_ThrowsAndLeavesNoOutput()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        string output = Path.Combine(_dir, "cancelled.safetensors");
        Assert.That(() => DeltaCodec.DecompressFile(_delta, _base, output, null, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(File.Exists(output), Is.False);
        using ModelDeltaLinkSource link = Link(_delta);
        Assert.That(() => link.Read(Tensor(link, "a"), 0, new byte[10], cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(() => link.Restore(Stream.Null, 1, null, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(() => link.Restore(null!, 1, null, default), Throws.ArgumentNullException);
    }

    [Test]
    public void LinkSource_Restore_WritesHeaderThenTensorsInIndexOrder([Values(0, 1, 3)] int parallelism)
    {
        using ModelDeltaLinkSource link = Link(_delta);
        using var output = new MemoryStream();
        link.Restore(output, parallelism, null, default);
        Assert.That(output.ToArray(), Is.EqualTo(File.ReadAllBytes(_target)));
    }

    [Test]
    public void Inspect_DeltaSegmentForAnotherDType_NamesWhatTheIndexExpects()
    {
        // The index says "a" (and its base) are F16 with a matching header; the stored Z4AD frames say BF16.
        (long indexOffset, byte[] plainIndex) = PlainIndex(_sample);
        ModelDeltaIndex index = ModelDeltaIndex.Parse(plainIndex, indexOffset);
        ModelDeltaEntry[] entries = [.. index.Entries.Select(e => e.Name != "a" ? e : new ModelDeltaEntry(
            e.Index, e.Tensor with { DType = DType.F16 }, e.Mode, e.Base! with { DType = DType.F16 }, e.Segments))];
        var tensors = _targetTensors.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Key == "a" ? new Tensor(DType.F16, [8, 80], p.Value.Data) : p.Value)).ToList();
        byte[] raw = ModelDeltaModels.RawFile(tensors, reverse: false, metadata: "{\"k\":\"v\"}");
        byte[] header = raw[..(8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(raw))];
        var forged = new ModelDeltaIndex(index.ChunkSize, index.FrameSize, index.SegmentSize, index.BaseModel, index.BaseTensorCount,
            ModelDigest.Compute(entries.Select(e => e.Tensor)), false, header, entries);
        string path = Path.Combine(_dir, "f16.z4delta");
        File.WriteAllBytes(path, Rewrite(_sample, forged));
        int j = Array.FindIndex(entries[0].Segments, x => x.Kind == ModelDeltaFormat.SegmentDelta);
        int length = j == 2 ? 256 : 512;

        using ModelDeltaReader reader = ModelDeltaReader.Open(path);
        var ex = Assert.Throws<Z4AiFormatException>(() => reader.Inspect())!;
        Assert.That((ex.Kind, ex.Offset, ex.TensorName, ex.FilePath), Is.EqualTo((Z4AiErrorKind.CorruptFrame, (long?)entries[0].Segments[j].Offset, "a", path)));
        Assert.That(ex.Detail, Is.EqualTo($"segment {j} holds a delta of {length} bytes of BF16 in chunks of 64; the index expects {length} bytes of F16 in chunks of 64"));
        Assert.That(ModelDeltaReader.HasMagic(File.ReadAllBytes(path)), Is.True);
    }

    // ---- helpers ----

    private static string Sha(Tensor t) => Convert.ToHexStringLower(SHA256.HashData(t.Data.Span));

    private static Sha256Digest Digest(Dictionary<string, Tensor> tensors) =>
        ModelDigest.Compute(tensors.Select(p => new ModelTensor(p.Key, p.Value.DType, [.. p.Value.Shape], p.Value.Data.Length, Sha256Digest.Compute(p.Value.Data.Span))));

    private static ModelTensor Tensor(ModelDeltaSource source, string name) =>
        source.TryGetTensor(name, out ModelTensor? t) ? t : throw new AssertionException($"no tensor {name}");

    private ModelDeltaLinkSource Link(string delta) =>
        new(ModelDeltaReader.Open(delta), ModelDeltaFileSource.Open(_base, "hash base", 1, null, default));

    private Z4AiFormatException OpenFails(byte[] file)
    {
        string path = Path.Combine(_dir, "damaged.z4delta");
        File.WriteAllBytes(path, file);
        var ex = Assert.Throws<Z4AiFormatException>(() => ModelDeltaReader.Open(path).Dispose())!;
        Assert.That(ex.FilePath, Is.EqualTo(path));
        return ex;
    }

    private Z4AiFormatException RestoreFails(Dictionary<string, Tensor> @base, out string basePath)
    {
        basePath = ModelDeltaModels.SavePlain(_dir, "wrong-base-" + Guid.NewGuid().ToString("N")[..8], @base);
        string output = Path.Combine(_dir, "wrong.safetensors");
        string path = basePath;
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressFile(_delta, path, output))!;
        Assert.That(File.Exists(output), Is.False);
        return ex;
    }

    // The index's offset and its bytes unpacked (the sample's index may be packed).
    private static (long Offset, byte[] Plain) PlainIndex(byte[] file)
    {
        (long offset, int length) = ModelDeltaRestoreKit.IndexBounds(file);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(file.Length - ModelDeltaFormat.FooterLength + 6));
        ReadOnlySpan<byte> stored = file.AsSpan((int)offset, length);
        return (offset, (flags & ModelDeltaFormat.FlagPackedIndex) != 0
            ? ContainerIndexPacking.Unpack(stored, offset, ModelDeltaFormat.MaxIndexLength, ModelDeltaFormat.MaxIndexLength)
            : stored.ToArray());
    }

    // Rewrites the footer with some fields replaced and its own checksum recomputed.
    private static byte[] Refoot(byte[] file, ushort version = 1, ushort flags = 0, long? indexOffset = null, long? indexLength = null, ulong? checksum = null)
    {
        byte[] copy = [.. file];
        Span<byte> footer = copy.AsSpan(copy.Length - 40);
        if (indexOffset is { } o)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], (ulong)o);
        }

        if (indexLength is { } l)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(footer[16..], (ulong)l);
        }

        if (checksum is { } c)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(footer[24..], c);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(footer[4..], version);
        BinaryPrimitives.WriteUInt16LittleEndian(footer[6..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[32..], ContainerFormat.Checksum(footer[..32]));
        return copy;
    }

    // The data section of `file` followed by `index` and a footer that seals it.
    private static byte[] WithIndex(byte[] file, long indexOffset, ReadOnlySpan<byte> index, ushort flags)
    {
        byte[] result = new byte[indexOffset + index.Length + 40];
        file.AsSpan(0, (int)indexOffset).CopyTo(result);
        index.CopyTo(result.AsSpan((int)indexOffset));
        ModelDeltaFormat.WriteFooter(result.AsSpan(result.Length - 40), indexOffset, index.Length, ContainerFormat.Checksum(index), flags);
        return result;
    }

    // Recomputes every segment checksum and rewrites the (plain) index and footer.
    private static byte[] Reseal(byte[] file, ModelDeltaIndex index)
    {
        ModelDeltaEntry[] entries = [.. index.Entries.Select(e => new ModelDeltaEntry(e.Index, e.Tensor, e.Mode, e.Base,
            [.. e.Segments.Select(s => s with { Checksum = ContainerFormat.Checksum(file.AsSpan((int)s.Offset, s.StoredLength)) })]))];
        var resealed = new ModelDeltaIndex(index.ChunkSize, index.FrameSize, index.SegmentSize, index.BaseModel, index.BaseTensorCount, index.TargetModel, index.HeaderSynthesized, index.Header, entries);
        return Rewrite(file, resealed);
    }

    private static byte[] Rewrite(byte[] file, ModelDeltaIndex index)
    {
        (long indexOffset, _) = ModelDeltaRestoreKit.IndexBounds(file);
        using var bytes = new ArrayPoolBufferWriter<byte>();
        index.Write(bytes, CompressionEffort.Default);
        return WithIndex(file, indexOffset, bytes.WrittenSpan, flags: 0);
    }

    // A copy of the sample whose index records another SHA-256 for `name` (and, for a copy, for its base tensor).
    private string Forge(string name)
    {
        (long indexOffset, byte[] plainIndex) = PlainIndex(_sample);
        ModelDeltaIndex index = ModelDeltaIndex.Parse(plainIndex, indexOffset);
        Sha256Digest forged = Sha256Digest.Compute("forged"u8);
        ModelDeltaEntry[] entries = [.. index.Entries.Select(e => e.Name != name ? e : new ModelDeltaEntry(
            e.Index,
            e.Tensor with { Digest = forged },
            e.Mode,
            e.Mode == ModelDeltaTensorMode.Copy ? e.Base! with { Digest = forged } : e.Base,
            e.Segments))];
        var forgedIndex = new ModelDeltaIndex(
            index.ChunkSize, index.FrameSize, index.SegmentSize, index.BaseModel, index.BaseTensorCount,
            ModelDigest.Compute(entries.Select(e => e.Tensor)), index.HeaderSynthesized, index.Header, entries);
        string path = Path.Combine(_dir, $"forged-{name}.z4delta");
        File.WriteAllBytes(path, Rewrite(_sample, forgedIndex));
        return path;
    }

    /// <summary>Records progress synchronously, per stage.</summary>
    private sealed class Recorder : IProgress<ProgressInfo>
    {
        private readonly List<ProgressInfo> _reports = [];

        public void Report(ProgressInfo value)
        {
            lock (_reports)
            {
                _reports.Add(value);
            }
        }

        public List<(string? Tensor, long Done, long Total)> Stage(string stage) =>
            [.. _reports.Where(r => r.Stage == stage).Select(r => (r.Tensor, r.BytesDone, r.BytesTotal))];
    }
}
