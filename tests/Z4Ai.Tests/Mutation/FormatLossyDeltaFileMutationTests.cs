using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Format;
using Z4Ai.Integrity;
using Z4Ai.Tests.Delta;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// <see cref="LossyDeltaWriter"/> and <see cref="LossyDeltaReader"/> on a four-tensor model small enough to encode
/// in milliseconds: every field the writer records (settings, modes, digests, the three model identities, progress),
/// the calibration check, and every refusal of the reader with its kind, text, tensor and file.
/// </summary>
public class FormatLossyDeltaFileMutationTests
{
    private string _dir = null!;
    private string _base = null!;
    private string _target = null!;
    private string _delta = null!;
    private LossyDeltaInfo _info = null!;
    private Dictionary<string, Tensor> _baseTensors = null!;
    private Dictionary<string, Tensor> _targetTensors = null!;

    private static readonly SaveOptions Plain = new() { Format = StorageFormat.SafeTensors };

    private static Tensor Floats(long[] shape, int seed, float scale)
    {
        var random = new Random(seed);
        int n = (int)shape.Aggregate(1L, (a, b) => a * b);
        float[] values = [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() - 0.5) * scale))];
        return new Tensor(DType.F32, shape, LossyTestModels.Encode(values, DType.F32));
    }

    private static Tensor Nudged(Tensor t, int seed)
    {
        var random = new Random(seed);
        float[] values = t.ToSingleArray();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] += (float)((random.NextDouble() - 0.5) * 0.01);
        }

        return new Tensor(t.DType, [.. t.Shape], LossyTestModels.Encode(values, t.DType));
    }

    [OneTimeSetUp]
    public void CreateModels()
    {
        _dir = LossyTestModels.CreateDirectory();
        _baseTensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["w"] = Floats([4, 8], 1, 1f),
            ["b"] = Floats([8], 2, 1f),
            ["r"] = Floats([2, 2], 3, 1f),
            ["o"] = Floats([3], 4, 1f),
        };
        _targetTensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["w"] = Nudged(_baseTensors["w"], 5),
            ["b"] = Nudged(_baseTensors["b"], 6),
            ["r"] = Floats([4], 7, 1f),
            ["n"] = Floats([2], 8, 1f),
        };
        _base = Path.Combine(_dir, "base.safetensors");
        _target = Path.Combine(_dir, "target.safetensors");
        SafeTensorsCompat.SaveFile(_baseTensors, _base, options: Plain);
        SafeTensorsCompat.SaveFile(_targetTensors, _target, new Dictionary<string, string> { ["framework"] = "pt" }, Plain);
        _delta = Path.Combine(_dir, "model.z4al");
        _info = LossyDelta.Compress(_target, _base, _delta, new LossyOptions { Tier = LossyTier.Int8, GroupSize = 8, MinElements = 1 });
    }

    [OneTimeTearDown]
    public void DeleteModels() => LossyTestModels.DeleteDirectory(_dir);

    private static string Sha(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string Sha(Tensor t) => Sha(t.Data.Span);

    private string Write(string name, Dictionary<string, Tensor> tensors)
    {
        string path = Path.Combine(_dir, name);
        SafeTensorsCompat.SaveFile(tensors, path, options: Plain);
        return path;
    }

    // ---- the writer ----

    [Test]
    public void Compress_RecordsEveryTensorInTargetFileOrder()
    {
        SafeTensorsHeader order = SafeTensorsFormat.Parse(File.ReadAllBytes(_target));
        Assert.That(_info.Tensors.Select(t => t.Name), Is.EqualTo(order.Tensors.Select(t => t.Name)));
        Dictionary<string, LossyTensorInfo> byName = _info.Tensors.ToDictionary(t => t.Name);

        Assert.That(byName["w"].Mode, Is.EqualTo(LossyTier.Int8), "matching base, rank 2, above MinElements");
        Assert.That(byName["b"].Mode, Is.EqualTo(LossyTier.Lossless), "rank 1 stays exact");
        Assert.That(byName["r"].Mode, Is.EqualTo(LossyTier.Lossless));
        Assert.That(byName["n"].Mode, Is.EqualTo(LossyTier.Lossless));

        Assert.That(byName["w"].BaseSha256, Is.EqualTo(Sha(_baseTensors["w"])));
        Assert.That(byName["b"].BaseSha256, Is.EqualTo(Sha(_baseTensors["b"])));
        Assert.That(byName["r"].BaseSha256, Is.Null, "a base tensor of another shape is not used");
        Assert.That(byName["n"].BaseSha256, Is.Null);

        foreach (LossyTensorInfo t in _info.Tensors)
        {
            Tensor target = _targetTensors[t.Name];
            Assert.That((t.DType, t.Shape, t.RawBytes, t.TargetSha256), Is.EqualTo((target.DType, target.Shape, (long)target.Data.Length, Sha(target))), t.Name);
            Assert.That(t.ReconstructedSha256 == t.TargetSha256, Is.EqualTo(t.Mode == LossyTier.Lossless), t.Name);
            Assert.That(t.StoredBytes, Is.GreaterThan(0), t.Name);
            Assert.That(t.MaxAbs, Is.GreaterThanOrEqualTo(0), t.Name);
        }

        Assert.That(byName["w"].MaxAbs, Is.GreaterThan(0), "int8 is lossy");
        Assert.That(byName["b"].RelativeL2, Is.EqualTo(0), "exact tensors have no error");
    }

    [Test]
    public void Compress_FileFieldsAndModelIdentities()
    {
        byte[] file = File.ReadAllBytes(_delta);
        Assert.That(_info.FilePath, Is.EqualTo(Path.GetFullPath(_delta)));
        Assert.That(_info.FileLength, Is.EqualTo(file.Length));
        Assert.That(_info.FileSha256, Is.EqualTo(Sha(file)));
        Assert.That(_info.FormatVersion, Is.EqualTo(1));
        Assert.That(file.AsSpan(0, 5).ToArray(), Is.EqualTo(new byte[] { (byte)'Z', (byte)'4', (byte)'A', (byte)'L', 1 }));

        // The records follow the preamble back to back, in file order.
        using LossyDeltaReader reader = LossyDeltaReader.Open(_delta);
        long expectedOffset = 5;
        foreach (LossyDeltaEntry e in reader.Index.Entries)
        {
            Assert.That(e.RecordOffset, Is.EqualTo(expectedOffset), e.Name);
            expectedOffset += e.RecordLength;
        }

        Assert.That(reader.Index.TargetHeader, Is.EqualTo(File.ReadAllBytes(_target).AsSpan(0, reader.Index.TargetHeader.Length).ToArray()));

        static LossyDigestEntry Identity(string name, Tensor t, string sha) =>
            new(name, t.DType, [.. t.Shape], t.Data.Length, new Sha256Digest(Convert.FromHexString(sha)));

        SafeTensorsHeader baseOrder = SafeTensorsFormat.Parse(File.ReadAllBytes(_base));
        string baseModel = LossyModelDigest.Compute(baseOrder.Tensors.Select(h => Identity(h.Name, _baseTensors[h.Name], Sha(_baseTensors[h.Name])))).ToString();
        string targetModel = LossyModelDigest.Compute(_info.Tensors.Select(t => Identity(t.Name, _targetTensors[t.Name], t.TargetSha256))).ToString();
        string reconstructedModel = LossyModelDigest.Compute(_info.Tensors.Select(t => Identity(t.Name, _targetTensors[t.Name], t.ReconstructedSha256))).ToString();
        Assert.That(_info.BaseSha256, Is.EqualTo(baseModel), "every base tensor, used or not, in the base's order");
        Assert.That(_info.TargetSha256, Is.EqualTo(targetModel));
        Assert.That(_info.ReconstructedSha256, Is.EqualTo(reconstructedModel));
        Assert.That(_info.ReconstructedSha256, Is.Not.EqualTo(_info.TargetSha256));
    }

    [Test]
    public void Compress_Settings_AreRecordedAsGiven()
    {
        string delta = Path.Combine(_dir, "settings.z4al");
        var options = new LossyOptions
        {
            Tier = LossyTier.Int4,
            GroupSize = 4,
            OutlierFraction = 0.0000025,
            SparseFraction = 0.0000035,
            DropAndRescale = true,
            Seed = 99,
            MinElements = 1000,
            RefineScales = true,
        };
        LossyDeltaInfo info = LossyDelta.Compress(_target, _base, delta, options);
        Assert.That(info.Settings, Is.EqualTo(new LossyTierSettings(LossyTier.Int4, 4, 2, 4, true, false, 99, 1000)),
            "ppm rounded half to even; refined scales need a calibration");
        Assert.That(info.Tensors.Single(t => t.Name == "w").Mode, Is.EqualTo(LossyTier.Lossless), "32 elements are below MinElements");
        Assert.That(LossyDelta.Inspect(delta).Settings, Is.EqualTo(info.Settings));
    }

    [Test]
    public void Compress_Progress_CountsBytesInFileOrder()
    {
        var seen = new List<ProgressInfo>();
        LossyDeltaInfo info = LossyDelta.Compress(_target, _base, Path.Combine(_dir, "progress.z4al"),
            new LossyOptions { Tier = LossyTier.Int8, GroupSize = 8, MinElements = 1 }, new ListProgress(seen));
        long total = info.Tensors.Sum(t => t.RawBytes);
        long done = 0;
        var expected = new List<ProgressInfo>();
        foreach (LossyTensorInfo t in info.Tensors)
        {
            done += t.RawBytes;
            expected.Add(new ProgressInfo("lossy-delta", t.Name, done, total));
        }

        Assert.That(seen, Is.EqualTo(expected));
    }

    [Test]
    public void Compress_CalibrationWithTheWrongCount_IsRefusedAndWritesNothing()
    {
        string delta = Path.Combine(_dir, "calibration.z4al");
        LossyOptions Options(int count) => new()
        {
            Tier = LossyTier.OneBit,
            MinElements = 1,
            RefineScales = true,
            Calibration = new FixedCalibration(count),
        };

        var ex = Assert.Throws<ArgumentException>(() => LossyDelta.Compress(_target, _base, delta, Options(3)))!;
        Assert.That(ex.Message, Is.EqualTo("the calibration gave 3 moments for 'w', expected 8 (diagonal) or 64 (full)"));
        Assert.That(File.Exists(delta), Is.False);

        foreach (int count in new[] { 0, 8, 64 })
        {
            LossyDeltaInfo info = LossyDelta.Compress(_target, _base, delta, Options(count));
            Assert.That(info.Settings.RefineScales, Is.True, $"{count} moments");
            Assert.That(info.Tensors.Single(t => t.Name == "w").Mode, Is.EqualTo(LossyTier.OneBit));
        }
    }

    [Test]
    public void Compress_Cancelled_WritesNothing()
    {
        string delta = Path.Combine(_dir, "cancelled.z4al");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => LossyDelta.Compress(_target, _base, delta, cancellationToken: cts.Token));
        Assert.That(File.Exists(delta), Is.False);
    }

    // ---- the reader ----

    [Test]
    public void Reconstruct_WritesTheTargetHeaderThenEveryTensorAndReportsProgress()
    {
        string output = Path.Combine(_dir, "rebuilt.safetensors");
        using LossyDeltaReader reader = LossyDeltaReader.Open(_delta);
        var seen = new List<ProgressInfo>();
        using (TensorFile @base = TensorFile.Open(_base))
        using (var stream = new MemoryStream())
        {
            reader.Reconstruct(@base, stream, new ListProgress(seen), CancellationToken.None);
            File.WriteAllBytes(output, stream.ToArray());
        }

        byte[] target = File.ReadAllBytes(_target);
        byte[] rebuilt = File.ReadAllBytes(output);
        Assert.That(rebuilt, Has.Length.EqualTo(target.Length));
        int headerLength = reader.Index.TargetHeader.Length;
        Assert.That(rebuilt.AsSpan(0, headerLength).ToArray(), Is.EqualTo(target.AsSpan(0, headerLength).ToArray()));
        var loaded = SafeTensorsCompat.LoadFile(output);
        foreach (string exact in new[] { "b", "r", "n" })
        {
            Assert.That(loaded[exact].Data.ToArray(), Is.EqualTo(_targetTensors[exact].Data.ToArray()), exact);
        }

        Assert.That(Sha(loaded["w"]), Is.EqualTo(_info.Tensors.Single(t => t.Name == "w").ReconstructedSha256));

        long total = _info.Tensors.Sum(t => t.RawBytes);
        long done = 0;
        var expected = new List<ProgressInfo>();
        foreach (LossyTensorInfo t in _info.Tensors)
        {
            done += t.RawBytes;
            expected.Add(new ProgressInfo("reconstruct", t.Name, done, total));
        }

        Assert.That(seen, Is.EqualTo(expected));
    }

    [Test]
    public void Reconstruct_ToAFile_WritesTheStreamedBytes()
    {
        string output = Path.Combine(_dir, "rebuilt-file.safetensors");
        LossyDelta.Reconstruct(_delta, _base, output);
        using LossyDeltaReader reader = LossyDeltaReader.Open(_delta);
        using TensorFile @base = TensorFile.Open(_base);
        using var stream = new MemoryStream();
        reader.Reconstruct(@base, stream, null, CancellationToken.None);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(stream.ToArray()));
    }

    [Test]
    public void Compress_NonCanonicalTarget_KeepsItsHeaderFromAPlainFileAndFromAContainer()
    {
        // Metadata after the tensors: a header the canonical writer would not produce.
        string[] names = ["b", "n", "r", "w"];
        (string, DType, long[], long)[] order = [.. names.Select(n => (n, DType.F32, _targetTensors[n].Shape.ToArray(), (long)_targetTensors[n].Data.Length))];
        byte[] header = SafeTensorsFormat.TryCreateHeader(order, [new("framework", "pt")], metadataLast: true, 1 << 16)!;
        byte[] file = [.. header, .. names.SelectMany(n => _targetTensors[n].Data.ToArray())];
        Assert.That(file.AsSpan(0, header.Length).SequenceEqual(File.ReadAllBytes(_target).AsSpan(0, header.Length)), Is.False, "not the canonical header");

        string plain = Path.Combine(_dir, "noncanonical.safetensors");
        File.WriteAllBytes(plain, file);
        string container = Path.Combine(_dir, "noncanonical.z4ai");
        Z4AiContainer.Compress(plain, container);
        string baseContainer = Path.Combine(_dir, "base-for-noncanonical.z4ai");
        Z4AiContainer.Compress(_base, baseContainer);

        foreach ((string target, string @base) in new[] { (plain, _base), (container, baseContainer) })
        {
            string delta = Path.ChangeExtension(target, ".z4al");
            LossyDeltaInfo info = LossyDelta.Compress(target, @base, delta);
            using (LossyDeltaReader reader = LossyDeltaReader.Open(delta))
            {
                Assert.That(reader.Index.TargetHeader, Is.EqualTo(header), target);
            }

            Assert.That(info.Tensors.All(t => t.Mode == LossyTier.Lossless), Is.True, "32 elements are below the default MinElements");
            Assert.That((info.BaseSha256, info.TargetSha256), Is.EqualTo((_info.BaseSha256, _info.TargetSha256)), "the same models, whatever their files");
            string output = Path.ChangeExtension(target, ".rebuilt.safetensors");
            LossyDelta.Reconstruct(delta, @base, output);
            Assert.That(File.ReadAllBytes(output), Is.EqualTo(file), target);
        }
    }

    [Test]
    public void Reconstruct_Cancelled_WritesNoOutput()
    {
        string output = Path.Combine(_dir, "cancelled.safetensors");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => LossyDelta.Reconstruct(_delta, _base, output, cancellationToken: cts.Token));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Reconstruct_BaseWithoutAUsedTensor_NamesItAndTheBase()
    {
        var tensors = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal);
        tensors.Remove("b");
        string other = Write("base-without-b.safetensors", tensors);
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDelta.Reconstruct(_delta, other, Path.Combine(_dir, "x.safetensors")))!;
        Assert.That((ex.Kind, ex.Detail, ex.TensorName, ex.FilePath),
            Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, "the delta was made against a base with this tensor, but the base given has none", "b", other)));
    }

    [Test]
    public void Reconstruct_WrongBase_IsReportedBeforeTheOutputIsOpened()
    {
        // The base is checked before the output is opened: the output's folder, which opening it would create, is not.
        var tensors = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal);
        tensors.Remove("w");
        string other = Write("base-without-w.safetensors", tensors);
        string folder = Path.Combine(_dir, "no-such-folder");
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDelta.Reconstruct(_delta, other, Path.Combine(folder, "x.safetensors")))!;
        Assert.That((ex.Kind, ex.TensorName), Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, "w")));
        Assert.That(Directory.Exists(folder), Is.False);
    }

    [TestCase(DType.F32, new long[] { 8, 4 }, TestName = "Reconstruct_BaseTensorOfAnotherShape_IsAMismatch")]
    [TestCase(DType.F16, new long[] { 4, 8 }, TestName = "Reconstruct_BaseTensorOfAnotherDType_IsAMismatch")]
    public void Reconstruct_BaseTensorOfAnotherType_IsAMismatch(DType dtype, long[] shape)
    {
        var tensors = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal)
        {
            ["w"] = new Tensor(dtype, shape, new byte[32 * dtype.ElementSize()]),
        };
        string other = Write($"base-{dtype}-{shape[0]}.safetensors", tensors);
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDelta.Reconstruct(_delta, other, Path.Combine(_dir, "x.safetensors")))!;
        Assert.That((ex.Kind, ex.TensorName, ex.FilePath), Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, "w", other)));
        Assert.That(ex.Detail, Is.EqualTo($"the base tensor is {dtype.GetName()}[{shape[0]},{shape[1]}], the delta needs F32[4,8]"));
    }

    [Test]
    public void Reconstruct_BaseTensorWithOtherValues_NamesBothDigests()
    {
        var tensors = new Dictionary<string, Tensor>(_baseTensors, StringComparer.Ordinal) { ["b"] = Floats([8], 77, 1f) };
        string other = Write("base-other-b.safetensors", tensors);
        string output = Path.Combine(_dir, "other-b.safetensors");
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDelta.Reconstruct(_delta, other, output))!;
        Assert.That((ex.Kind, ex.TensorName, ex.FilePath), Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, "b", other)));
        Assert.That(ex.Detail, Is.EqualTo(
            $"the base tensor has SHA-256 {Sha(tensors["b"])}, but the delta was made against {Sha(_baseTensors["b"])}; this is not the base the delta was made from"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Decode_RefusalsNameTheTensorAndTheFile()
    {
        using LossyDeltaReader reader = LossyDeltaReader.Open(_delta);
        Assert.That(reader.FilePath, Is.EqualTo(_delta));
        LossyDeltaEntry w = reader.Index.Entries.Single(e => e.Name == "w");
        LossyDeltaEntry b = reader.Index.Entries.Single(e => e.Name == "b");
        byte[] baseW = _baseTensors["w"].Data.ToArray();
        byte[] baseB = _baseTensors["b"].Data.ToArray();

        Assert.That(Sha(reader.Decode(w, baseW)), Is.EqualTo(w.ReconstructedDigest.ToString()));
        Assert.That(reader.Decode(b, baseB), Is.EqualTo(_targetTensors["b"].Data.ToArray()));

        var shortBase = Assert.Throws<Z4AiFormatException>(() => reader.Decode(w, new byte[3]))!;
        Assert.That((shortBase.Kind, shortBase.Detail, shortBase.TensorName, shortBase.FilePath),
            Is.EqualTo((Z4AiErrorKind.ReferenceMismatch, "the base tensor has 3 bytes, the record needs 128", "w", _delta)));

        var size = Assert.Throws<Z4AiFormatException>(() => reader.Decode(b with { RawLength = 33 }, baseB))!;
        Assert.That((size.Kind, size.Detail, size.TensorName),
            Is.EqualTo((Z4AiErrorKind.CorruptFrame, "the record rebuilds 32 bytes, the index says 33", "b")));

        var digest = Assert.Throws<Z4AiIntegrityException>(() => reader.Decode(w with { ReconstructedDigest = w.TargetDigest }, baseW))!;
        Assert.That((digest.Subject, digest.ExpectedDigest, digest.FilePath), Is.EqualTo(("w", w.TargetDigest.ToString(), _delta)));
        Assert.That(digest.ActualDigest, Is.EqualTo(w.ReconstructedDigest.ToString()));
    }

    [Test]
    public void Decode_DamagedLosslessRecord_IsReportedForThatTensor()
    {
        byte[] file = File.ReadAllBytes(_delta);
        using var stream = new MemoryStream(file);
        using LossyDeltaReader reader = LossyDeltaReader.Open(stream, leaveOpen: true, "shown.z4al");
        LossyDeltaEntry b = reader.Index.Entries.Single(e => e.Name == "b");
        byte[] baseB = _baseTensors["b"].Data.ToArray();

        // A record that does not start where the index says (one byte later) is not a frame.
        var shifted = Assert.Throws(Is.InstanceOf<Z4AiException>(), () => reader.Decode(b with { RecordOffset = b.RecordOffset + 1, RecordLength = b.RecordLength - 1 }, baseB));
        if (shifted is Z4AiFormatException f)
        {
            Assert.That((f.TensorName, f.FilePath), Is.EqualTo(("b", "shown.z4al")));
        }
        else
        {
            var i = (Z4AiIntegrityException)shifted!;
            Assert.That((i.Subject, i.FilePath), Is.EqualTo(("b", "shown.z4al")));
        }

        // A damaged payload byte rebuilds other bytes, which fail the record's own SHA-256: an integrity failure of that tensor.
        file[b.RecordOffset + b.RecordLength - 1] ^= 0x40;
        var ex = Assert.Throws<Z4AiIntegrityException>(() => reader.Decode(b, baseB))!;
        Assert.That((ex.Subject, ex.FilePath), Is.EqualTo(("b", "shown.z4al")));
        Assert.That(ex.ExpectedDigest, Is.EqualTo(Sha(_targetTensors["b"])), "the record's digest is the target tensor's");
    }

    [Test]
    public void Open_Stream_ArgumentsLeaveOpenAndDisplayName()
    {
        Assert.Throws<ArgumentNullException>(() => LossyDeltaReader.Open(null!, false, null));
        using (var writeOnly = new FileStream(Path.Combine(_dir, "w.bin"), FileMode.Create, FileAccess.Write))
        {
            var ex = Assert.Throws<ArgumentException>(() => LossyDeltaReader.Open(writeOnly, false, null))!;
            Assert.That((ex.ParamName, ex.Message), Is.EqualTo(("stream", "the stream must be readable and seekable (Parameter 'stream')")));
        }

        byte[] file = File.ReadAllBytes(_delta);
        var kept = new MemoryStream(file);
        using (LossyDeltaReader reader = LossyDeltaReader.Open(kept, leaveOpen: true, null))
        {
            Assert.That(reader.FilePath, Is.Null);
        }

        Assert.That(kept.CanRead, Is.True, "leaveOpen keeps the stream");
        var closed = new MemoryStream(file);
        LossyDeltaReader.Open(closed, leaveOpen: false, "x").Dispose();
        Assert.That(closed.CanRead, Is.False, "without leaveOpen the reader disposes it");

        byte[] bad = (byte[])file.Clone();
        bad[4] = 9;
        var named = Assert.Throws<Z4AiFormatException>(() => LossyDeltaReader.Open(new MemoryStream(bad), false, "shown.z4al"))!;
        Assert.That((named.Kind, named.FilePath, named.Offset), Is.EqualTo((Z4AiErrorKind.UnsupportedVersion, "shown.z4al", 4L)));
        var anonymous = Assert.Throws<Z4AiFormatException>(() => LossyDeltaReader.Open(new MemoryStream(bad), false, null))!;
        Assert.That(anonymous.FilePath, Is.Null);
    }

    [Test]
    public void Open_PathOfADamagedFile_NamesItAndReleasesIt()
    {
        string path = Path.Combine(_dir, "damaged-version.z4al");
        byte[] bad = File.ReadAllBytes(_delta);
        bad[4] = 9;
        File.WriteAllBytes(path, bad);
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDeltaReader.Open(path))!;
        Assert.That((ex.Kind, ex.FilePath), Is.EqualTo((Z4AiErrorKind.UnsupportedVersion, path)));
        using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Assert.That(exclusive.Length, Is.EqualTo(bad.Length), "the failed open left no handle behind");
    }

    [Test]
    public void GetInfo_HashesTheWholeFileWhereverTheStreamIs()
    {
        byte[] file = File.ReadAllBytes(_delta);
        using var stream = new MemoryStream(file);
        using LossyDeltaReader reader = LossyDeltaReader.Open(stream, leaveOpen: true, "d.z4al");
        stream.Position = 17;
        LossyDeltaInfo info = reader.GetInfo();
        Assert.That((info.FilePath, info.FileLength, info.FileSha256), Is.EqualTo(("d.z4al", (long)file.Length, Sha(file))));
        Assert.That((info.BaseSha256, info.TargetSha256, info.ReconstructedSha256), Is.EqualTo((_info.BaseSha256, _info.TargetSha256, _info.ReconstructedSha256)));
        Assert.That(info.Settings, Is.EqualTo(_info.Settings));
        Assert.That(
            info.Tensors.Select(t => (t.Name, t.DType, t.Mode, t.RawBytes, t.StoredBytes, t.RelativeL2, t.RelativeL2OfDelta, t.MaxAbs, t.TargetSha256, t.BaseSha256, t.ReconstructedSha256)),
            Is.EqualTo(_info.Tensors.Select(t => (t.Name, t.DType, t.Mode, t.RawBytes, t.StoredBytes, t.RelativeL2, t.RelativeL2OfDelta, t.MaxAbs, t.TargetSha256, t.BaseSha256, t.ReconstructedSha256))));
        Assert.That(info.Tensors.Select(t => t.Shape.ToArray()), Is.EqualTo(_info.Tensors.Select(t => t.Shape.ToArray())));
    }

    [Test]
    public void BuildInfo_MapsEveryIndexField()
    {
        var settings = new LossySettings(LossyTier.Sparse, 16, 300, 40_000, true, true, 12345, 77, CompressionEffort.Fast);
        byte[] header = SafeTensorsFormat.TryCreateHeader([("t", DType.BF16, [2, 3], 12)], null, false, 1000)!;
        Sha256Digest D(byte b) => new(Enumerable.Repeat(b, 32).ToArray());
        var index = new LossyDeltaIndex(settings, header, D(1), D(2), D(3),
            [new LossyDeltaEntry("t", DType.BF16, [2, 3], 12, LossyTier.Sparse, 5, 9, D(4), D(5), D(6), new LossyError(0.5, 0.25, 0.125))]);
        LossyDeltaInfo info = LossyDeltaReader.BuildInfo(index, "p", 99, "abc");
        Assert.That((info.FilePath, info.FileLength, info.FileSha256, info.FormatVersion), Is.EqualTo(("p", 99L, "abc", 1)));
        Assert.That(info.Settings, Is.EqualTo(new LossyTierSettings(LossyTier.Sparse, 16, 300, 40_000, true, true, 12345, 77)));
        Assert.That((info.BaseSha256, info.TargetSha256, info.ReconstructedSha256), Is.EqualTo((D(1).ToString(), D(2).ToString(), D(3).ToString())));
        LossyTensorInfo t = info.Tensors.Single();
        Assert.That((t.Name, t.DType, t.Mode, t.RawBytes, t.StoredBytes), Is.EqualTo(("t", DType.BF16, LossyTier.Sparse, 12L, 9L)));
        Assert.That(t.Shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That((t.RelativeL2, t.RelativeL2OfDelta, t.MaxAbs), Is.EqualTo((0.5, 0.25, 0.125)));
        Assert.That((t.TargetSha256, t.BaseSha256, t.ReconstructedSha256), Is.EqualTo((D(4).ToString(), D(5).ToString(), D(6).ToString())));
    }

    private sealed class ListProgress(List<ProgressInfo> list) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => list.Add(value);
    }

    private sealed class FixedCalibration(int count) : ILossyCalibration
    {
        public ReadOnlyMemory<float> GetInputMoments(string tensorName, int columns) =>
            Enumerable.Repeat(1f, count).ToArray();
    }
}
