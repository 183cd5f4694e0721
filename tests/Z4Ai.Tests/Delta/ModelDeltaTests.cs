using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Delta;

/// <summary>Model-level deltas: matching, modes, byte-exact restore, identity checks, inspection.</summary>
[NonParallelizable]
public class ModelDeltaTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void CompressFile_FineTune_RestoresTheTargetByteForByte()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 1);
        Dictionary<string, Tensor> tuned = ModelDeltaModels.FineTune(@base, 0.05, seed: 2);
        string basePath = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SavePlain(_dir, "tuned", tuned);
        string delta = Path.Combine(_dir, "tuned.z4delta");
        string restored = Path.Combine(_dir, "restored.safetensors");

        ModelDeltaReport report = DeltaCodec.CompressFile(targetPath, basePath, delta);
        DeltaCodec.DecompressFile(delta, basePath, restored);

        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(targetPath)));
        Assert.That(report.OutputBytes, Is.EqualTo(new FileInfo(delta).Length));
        Assert.That(report.CountTensors(ModelDeltaTensorMode.Copy), Is.GreaterThan(0), "unchanged tensors are copies");
        Assert.That(report.CountTensors(ModelDeltaTensorMode.Delta), Is.GreaterThan(0), "tuned tensors are deltas");
        long alone = new FileInfo(ModelDeltaModels.Compress(targetPath)).Length;
        Assert.That(report.OutputBytes * 4, Is.LessThan(alone), "a 5% fine-tune costs far less than the target alone");
    }

    [Test]
    public void CompressFile_RenamedAndReorderedTensors_MatchByPositionAndCopy()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 3);
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor t) in @base)
        {
            renamed[name.Replace("layers", "blocks", StringComparison.Ordinal)] = t;
        }

        // Move one renamed tensor a little, so it must be found by position to delta well.
        string moved = "model.blocks.0.attn.q.weight";
        renamed[moved] = ModelDeltaModels.Step(renamed[moved], 0.02, seed: 4);
        string basePath = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SaveRaw(_dir, "renamed", renamed, reverse: true, metadata: "{\"format\":\"pt\"}");
        string delta = Path.Combine(_dir, "renamed.z4delta");

        ModelDeltaReport report = DeltaCodec.CompressFile(targetPath, basePath, delta);
        ModelDeltaTensorInfo q = report.Tensors.Single(t => t.Name == moved);
        Assert.That(q.Mode, Is.EqualTo(ModelDeltaTensorMode.Delta));
        Assert.That(q.BaseTensor, Is.EqualTo("model.layers.0.attn.q.weight"));
        Assert.That(report.Tensors.Where(t => t.Name != moved).Select(t => t.Mode), Is.All.EqualTo(ModelDeltaTensorMode.Copy));

        string restored = Path.Combine(_dir, "restored.safetensors");
        DeltaCodec.DecompressFile(delta, basePath, restored);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(targetPath)), "a hand-written header (reverse order, metadata) restores byte for byte");
    }

    [Test]
    public void CompressFile_AddedDroppedAndResizedTensors_StoreNewOnesOnTheirOwn()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 5);
        var target = new Dictionary<string, Tensor>(@base, StringComparer.Ordinal);
        target.Remove("model.layers.1.mlp.up.weight");
        target["head.new.weight"] = ModelDeltaModels.Gaussian(DType.BF16, [32, 16], seed: 6);
        Tensor embed = @base["model.embed.weight"];
        byte[] grown = new byte[embed.Data.Length + (32 * 2 * 4)];
        embed.Data.Span.CopyTo(grown);
        new Random(7).NextBytes(grown.AsSpan(embed.Data.Length));
        target["model.embed.weight"] = new Tensor(DType.BF16, [embed.Shape[0] + 4, embed.Shape[1]], grown);

        string basePath = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SavePlain(_dir, "target", target);
        string delta = Path.Combine(_dir, "t.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFileCore(targetPath, basePath, delta, ModelDeltaModels.SmallOptions, null, default);

        ModelDeltaTensorInfo added = report.Tensors.Single(t => t.Name == "head.new.weight");
        Assert.That(added.Mode, Is.EqualTo(ModelDeltaTensorMode.Scratch));
        Assert.That(added.BaseTensor, Is.Null);
        ModelDeltaTensorInfo resized = report.Tensors.Single(t => t.Name == "model.embed.weight");
        Assert.That(resized.Mode, Is.EqualTo(ModelDeltaTensorMode.Delta), "the grown embedding deltas against its old rows");
        Assert.That(resized.CountChunks(DeltaChunkMode.Copy), Is.GreaterThan(0));

        string restored = Path.Combine(_dir, "restored.safetensors");
        DeltaCodec.DecompressFile(delta, basePath, restored);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(targetPath)));
    }

    [Test]
    public void CompressFile_ContainerInputs_RestoreTheOriginalSafetensors()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 8);
        Dictionary<string, Tensor> tuned = ModelDeltaModels.FineTune(@base, 0.1, seed: 9);
        string basePlain = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPlain = ModelDeltaModels.SaveRaw(_dir, "tuned", tuned, reverse: true, metadata: null);
        string baseContainer = ModelDeltaModels.Compress(basePlain);
        string targetContainer = ModelDeltaModels.Compress(targetPlain);
        string delta = Path.Combine(_dir, "d.z4delta");

        DeltaCodec.CompressFileCore(targetContainer, baseContainer, delta, ModelDeltaModels.SmallOptions, null, default);

        // The base identity depends on the tensors, not the file: either form of the base applies.
        foreach (string @base2 in new[] { baseContainer, basePlain })
        {
            string restored = Path.Combine(_dir, "r.safetensors");
            DeltaCodec.DecompressFile(delta, @base2, restored);
            Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(targetPlain)), @base2);
        }
    }

    [Test]
    public void CompressFile_ContainerWithoutHeader_RestoresTheCanonicalFile()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 10);
        Dictionary<string, Tensor> tuned = ModelDeltaModels.FineTune(@base, 0.1, seed: 11);
        string basePath = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string target = Path.Combine(_dir, "tuned.z4ai");
        using (FileStream stream = File.Create(target))
        using (var writer = new ContainerWriter(stream, new ContainerWriterOptions { ChunkSize = 4096, MinimumChunkSize = 4096 }))
        {
            foreach ((string name, Tensor t) in tuned.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteTensor(name, t.DType, t.GetShape(), t.Data.Span);
            }

            writer.Complete(null, null);
        }

        string delta = Path.Combine(_dir, "d.z4delta");
        DeltaCodec.CompressFile(target, basePath, delta);
        Assert.That(DeltaCodec.InspectFile(delta).HeaderSynthesized, Is.True);
        string restored = Path.Combine(_dir, "r.safetensors");
        DeltaCodec.DecompressFile(delta, basePath, restored);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(ModelDeltaModels.SavePlain(_dir, "canonical", tuned))));
    }

    [Test]
    public void DecompressFile_WrongBase_ThrowsReferenceMismatchNamingDigestsAndLeavesNoOutput()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 12);
        string basePath = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SavePlain(_dir, "tuned", ModelDeltaModels.FineTune(@base, 0.05, seed: 13));
        string delta = Path.Combine(_dir, "d.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFile(targetPath, basePath, delta);
        string restored = Path.Combine(_dir, "restored.safetensors");

        // A different model altogether.
        string other = ModelDeltaModels.SavePlain(_dir, "other", ModelDeltaModels.Base(seed: 99));
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressFile(delta, other, restored))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.Message, Does.Contain(report.BaseModelSha256).And.Contain("wrong base"));
        Assert.That(ex.TensorName, Is.Not.Null);

        // The right model with one used tensor's bytes changed: the message names that tensor and both digests.
        var tampered = new Dictionary<string, Tensor>(@base, StringComparer.Ordinal);
        string victim = report.Tensors.First(t => t.Mode == ModelDeltaTensorMode.Delta).BaseTensor!;
        tampered[victim] = ModelDeltaModels.Step(@base[victim], 0.01, seed: 14);
        string tamperedPath = ModelDeltaModels.SavePlain(_dir, "tampered", tampered);
        ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressFile(delta, tamperedPath, restored))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.TensorName, Is.EqualTo(victim));
        Assert.That(ex.Message, Does.Contain(Sha(@base[victim])).And.Contain(Sha(tampered[victim])));

        // Same name, other shape.
        var reshaped = new Dictionary<string, Tensor>(@base, StringComparer.Ordinal);
        Tensor v = @base[victim];
        reshaped[victim] = new Tensor(v.DType, [v.Shape[0] * v.Shape[1]], v.Data);
        string reshapedPath = ModelDeltaModels.SavePlain(_dir, "reshaped", reshaped);
        ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressFile(delta, reshapedPath, restored))!;
        Assert.That(ex.TensorName, Is.EqualTo(victim));
        Assert.That(ex.Message, Does.Contain($"BF16[{v.Shape[0] * v.Shape[1]}]"));

        // Only an unused tensor differs: still not the recorded base model.
        var unusedChanged = new Dictionary<string, Tensor>(@base, StringComparer.Ordinal) { ["extra.unused"] = ModelDeltaModels.Gaussian(DType.F32, [3], seed: 15) };
        ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressFile(delta, ModelDeltaModels.SavePlain(_dir, "extra", unusedChanged), restored))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));

        Assert.That(File.Exists(restored), Is.False);
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty);
    }

    [Test]
    public void InspectFile_WithoutBase_ReportsModesDigestsAndChunks()
    {
        Dictionary<string, Tensor> @base = ModelDeltaModels.Base(seed: 16);
        Dictionary<string, Tensor> tuned = ModelDeltaModels.FineTune(@base, 0.05, seed: 17);
        tuned["brand.new"] = ModelDeltaModels.Gaussian(DType.F32, [64], seed: 18);
        string basePath = ModelDeltaModels.SavePlain(_dir, "base", @base);
        string targetPath = ModelDeltaModels.SaveRaw(_dir, "tuned", tuned, reverse: false, metadata: "{\"step\":\"1000\"}");
        string delta = Path.Combine(_dir, "d.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFileCore(targetPath, basePath, delta, ModelDeltaModels.SmallOptions, null, default);
        File.Delete(basePath);

        Assert.That(DeltaCodec.IsModelDelta(delta), Is.True);
        Assert.That(DeltaCodec.IsModelDelta(targetPath), Is.False);
        ModelDeltaInfo info = DeltaCodec.InspectFile(delta);
        Assert.That(info.BaseModelSha256, Is.EqualTo(report.BaseModelSha256));
        Assert.That(info.TargetModelSha256, Is.EqualTo(report.TargetModelSha256));
        Assert.That(info.BaseTensorCount, Is.EqualTo(@base.Count));
        Assert.That(info.FileLength, Is.EqualTo(new FileInfo(delta).Length));
        Assert.That(info.Metadata, Is.EqualTo(new Dictionary<string, string> { ["step"] = "1000" }));
        Assert.That(info.HeaderSynthesized, Is.False);
        Assert.That(info.Tensors.Select(t => t.Name), Is.EqualTo(report.Tensors.Select(t => t.Name)));
        for (int i = 0; i < info.Tensors.Count; i++)
        {
            ModelDeltaTensorInfo a = info.Tensors[i];
            ModelDeltaTensorInfo b = report.Tensors[i];
            Assert.That((a.Mode, a.StoredBytes, a.Sha256, a.BaseTensor, a.BaseSha256), Is.EqualTo((b.Mode, b.StoredBytes, b.Sha256, b.BaseTensor, b.BaseSha256)), a.Name);
            Assert.That(a.ChunkModes, Is.EqualTo(b.ChunkModes), a.Name);
            Assert.That(a.Sha256, Is.EqualTo(Sha(tuned[a.Name])));
        }

        ModelDeltaTensorInfo q = info.Tensors.First(t => t.Mode == ModelDeltaTensorMode.Delta);
        Assert.That(q.ChunkModes, Has.Count.EqualTo((int)((q.RawBytes + 63) / 64)));
        Assert.That(q.CountChunks(DeltaChunkMode.Xor) + q.CountChunks(DeltaChunkMode.Subtract) + q.CountChunks(DeltaChunkMode.Copy), Is.GreaterThan(0));
        Assert.That(info.Tensors.Single(t => t.Name == "brand.new").Mode, Is.EqualTo(ModelDeltaTensorMode.Scratch));
    }

    [Test]
    public void CompressFile_UnrelatedModels_AreNeverMuchWorseThanTheTargetAlone()
    {
        string basePath = ModelDeltaModels.SavePlain(_dir, "a", ModelDeltaModels.Base(seed: 19));
        string targetPath = ModelDeltaModels.SavePlain(_dir, "b", ModelDeltaModels.Base(seed: 20));
        string delta = Path.Combine(_dir, "d.z4delta");
        ModelDeltaReport report = DeltaCodec.CompressFile(targetPath, basePath, delta);
        long alone = new FileInfo(ModelDeltaModels.Compress(targetPath)).Length;
        Assert.That(report.Tensors.Select(t => t.Mode), Is.All.EqualTo(ModelDeltaTensorMode.Scratch).Or.EqualTo(ModelDeltaTensorMode.Copy));
        Assert.That(report.OutputBytes, Is.LessThanOrEqualTo(alone + 256), "no worse than compressing the target alone plus a small header");
        string restored = Path.Combine(_dir, "r.safetensors");
        DeltaCodec.DecompressFile(delta, basePath, restored);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(targetPath)));
    }

    [Test]
    public void CompressFile_Cancelled_LeavesNoOutput()
    {
        string basePath = ModelDeltaModels.SavePlain(_dir, "a", ModelDeltaModels.Base(seed: 21));
        string targetPath = ModelDeltaModels.SavePlain(_dir, "b", ModelDeltaModels.FineTune(ModelDeltaModels.Base(seed: 21), 0.1, seed: 22));
        string delta = Path.Combine(_dir, "d.z4delta");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(() => DeltaCodec.CompressFile(targetPath, basePath, delta, cancellationToken: cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Directory.GetFiles(_dir).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void DecompressChain_EmptyOrNull_ThrowsArgumentException()
    {
        Assert.That(() => DeltaCodec.DecompressChain([], "b", "o"), Throws.ArgumentException);
        Assert.That(() => DeltaCodec.DecompressChain(["d", ""], "b", "o"), Throws.ArgumentException);
        Assert.That(() => DeltaCodec.CompressFile("", "b", "o"), Throws.ArgumentException);
    }

    private static string Sha(Tensor t) => Convert.ToHexStringLower(SHA256.HashData(t.Data.Span));
}

/// <summary>Small deterministic models and files for the model-delta tests.</summary>
internal static class ModelDeltaModels
{
    /// <summary>Tiny chunks and segments, so small tensors span several of each.</summary>
    public static readonly ModelDeltaWriterOptions SmallOptions = new() { ChunkSize = 64, FrameSize = 128, SegmentSize = 384, MaxDegreeOfParallelism = 2 };

    public static Dictionary<string, Tensor> Base(int seed)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["model.embed.weight"] = Gaussian(DType.BF16, [256, 32], seed),
        };
        for (int layer = 0; layer < 2; layer++)
        {
            string p = $"model.layers.{layer}.";
            tensors[p + "attn.q.weight"] = Gaussian(DType.BF16, [32, 32], seed + (100 * layer) + 1);
            tensors[p + "attn.v.weight"] = Gaussian(DType.BF16, [32, 32], seed + (100 * layer) + 2);
            tensors[p + "mlp.up.weight"] = Gaussian(DType.BF16, [96, 32], seed + (100 * layer) + 3);
            tensors[p + "norm.weight"] = Gaussian(DType.F32, [32], seed + (100 * layer) + 4);
        }

        tensors["model.position_ids"] = Tensor.FromArray<long>(DType.I64, [1, 32], Enumerable.Range(0, 32).Select(i => (long)i).ToArray());
        return tensors;
    }

    /// <summary>Moves a fraction of the BF16 attention weights a few steps; everything else stays.</summary>
    public static Dictionary<string, Tensor> FineTune(Dictionary<string, Tensor> @base, double fraction, int seed)
    {
        var tuned = new Dictionary<string, Tensor>(@base, StringComparer.Ordinal);
        int i = 0;
        foreach (string name in @base.Keys.Where(n => n.Contains("attn", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            tuned[name] = Step(@base[name], fraction, seed + i++);
        }

        return tuned;
    }

    public static Tensor Step(Tensor t, double fraction, int seed) =>
        new(t.DType, t.GetShape(), DeltaTestData.StepBf16(t.Data.ToArray(), fraction, seed));

    public static Tensor Gaussian(DType dtype, long[] shape, int seed)
    {
        int count = (int)shape.Aggregate(1L, (a, b) => a * b);
        var random = new Random(seed);
        if (dtype == DType.BF16)
        {
            return new Tensor(dtype, shape, DeltaTestData.GaussianBf16(count, 0.02f, seed));
        }

        float[] values = Enumerable.Range(0, count).Select(_ => DeltaTestData.NextGaussian(random) * 0.02f).ToArray();
        return Tensor.FromArray<float>(DType.F32, shape, values);
    }

    public static string SavePlain(string dir, string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        string path = Path.Combine(dir, name + ".safetensors");
        SafeTensorsCompat.SaveFile(tensors, path, options: new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    /// <summary>Writes a safetensors file by hand with the tensors in name order (or reversed) and optional metadata JSON.</summary>
    public static string SaveRaw(string dir, string name, IReadOnlyDictionary<string, Tensor> tensors, bool reverse, string? metadata)
    {
        string path = Path.Combine(dir, name + ".safetensors");
        File.WriteAllBytes(path, RawFile(tensors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(), reverse, metadata));
        return path;
    }

    public static byte[] RawFile(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, bool reverse, string? metadata)
    {
        IEnumerable<KeyValuePair<string, Tensor>> order = reverse ? tensors.Reverse() : tensors;
        var json = new StringBuilder("{");
        if (metadata is not null)
        {
            json.Append("\"__metadata__\": ").Append(metadata);
        }

        long offset = 0;
        var data = new MemoryStream();
        foreach ((string name, Tensor t) in order)
        {
            json.Append(json.Length > 1 ? ", " : string.Empty);
            json.Append('"').Append(name).Append("\": {\"dtype\": \"").Append(t.DType.GetName()).Append("\", \"shape\": [")
                .Append(string.Join(", ", t.Shape)).Append("], \"data_offsets\": [").Append(offset).Append(", ").Append(offset + t.Data.Length).Append("]}");
            offset += t.Data.Length;
            data.Write(t.Data.Span);
        }

        json.Append('}');
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        byte[] file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        data.ToArray().CopyTo(file, 8 + header.Length);
        return file;
    }

    public static string Compress(string plain)
    {
        string path = Path.ChangeExtension(plain, ".z4ai");
        Z4AiContainer.Compress(plain, path, new SaveOptions { ChunkSize = 64 << 10 });
        return path;
    }
}
