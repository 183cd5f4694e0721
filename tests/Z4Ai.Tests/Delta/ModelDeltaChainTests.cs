using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Delta;

/// <summary>Chains of checkpoints, each stored against the one before it.</summary>
[NonParallelizable]
public class ModelDeltaChainTests
{
    private string _dir = null!;
    private string _root = null!;
    private string[] _checkpoints = null!;
    private string[] _deltas = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-chain-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);

        // Four checkpoints after a root: fine-tune steps, then a rename, an added and a dropped tensor, a resized
        // embedding, and a file written in another order with metadata.
        Dictionary<string, Tensor> m0 = ModelDeltaModels.Base(seed: 40);
        Dictionary<string, Tensor> m1 = ModelDeltaModels.FineTune(m0, 0.05, seed: 41);
        Dictionary<string, Tensor> m2 = ModelDeltaModels.FineTune(m1, 0.05, seed: 42);
        m2["model.layers.1.attn.query.weight"] = m2["model.layers.1.attn.q.weight"];
        m2.Remove("model.layers.1.attn.q.weight");
        m2["head.bias"] = ModelDeltaModels.Gaussian(DType.F32, [32], seed: 43);
        Dictionary<string, Tensor> m3 = ModelDeltaModels.FineTune(m2, 0.2, seed: 44);
        m3.Remove("model.layers.0.mlp.up.weight");
        Tensor embed = m3["model.embed.weight"];
        byte[] grown = new byte[embed.Data.Length + 256];
        embed.Data.Span.CopyTo(grown);
        new Random(45).NextBytes(grown.AsSpan(embed.Data.Length));
        m3["model.embed.weight"] = new Tensor(DType.BF16, [embed.Shape[0] + 4, embed.Shape[1]], grown);
        Dictionary<string, Tensor> m4 = ModelDeltaModels.FineTune(m3, 0.01, seed: 46);

        _root = ModelDeltaModels.SavePlain(_dir, "m0", m0);
        _checkpoints =
        [
            ModelDeltaModels.SavePlain(_dir, "m1", m1),
            ModelDeltaModels.SavePlain(_dir, "m2", m2),
            ModelDeltaModels.Compress(ModelDeltaModels.SavePlain(_dir, "m3", m3)),
            ModelDeltaModels.SaveRaw(_dir, "m4", m4, reverse: true, metadata: "{\"step\":\"4\"}"),
        ];

        // Links use different segment sizes, so a link reads its base in parts that are not the base link's segments.
        ModelDeltaWriterOptions[] options =
        [
            ModelDeltaModels.SmallOptions,
            new() { ChunkSize = 64, FrameSize = 64, SegmentSize = 256, MaxDegreeOfParallelism = 1 },
            new() { ChunkSize = 128, FrameSize = 256, SegmentSize = 1024, MaxDegreeOfParallelism = 2 },
            new(),
        ];
        _deltas = new string[4];
        string previous = _root;
        for (int k = 0; k < 4; k++)
        {
            _deltas[k] = Path.Combine(_dir, $"d{k + 1}.z4delta");
            DeltaCodec.CompressFileCore(_checkpoints[k], previous, _deltas[k], options[k], null, default);
            previous = _checkpoints[k];
        }
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void DecompressChain_EveryLink_RestoresItsCheckpointByteForByte()
    {
        for (int k = 1; k <= 4; k++)
        {
            string restored = Path.Combine(_dir, $"restored{k}.safetensors");
            DeltaCodec.DecompressChain(_deltas[..k], _root, restored);
            Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(Original(k))), $"link {k}");
        }
    }

    [Test]
    public void DecompressChain_LinkRecordsThePreviousLinksTargetAsItsBase()
    {
        for (int k = 1; k < 4; k++)
        {
            Assert.That(DeltaCodec.InspectFile(_deltas[k]).BaseModelSha256, Is.EqualTo(DeltaCodec.InspectFile(_deltas[k - 1]).TargetModelSha256));
        }
    }

    [Test]
    public void DecompressChain_MissingLink_ThrowsReferenceMismatchNamingTheLinkAndDigests()
    {
        string restored = Path.Combine(_dir, "restored.safetensors");
        ModelDeltaInfo second = DeltaCodec.InspectFile(_deltas[1]);
        ModelDeltaInfo third = DeltaCodec.InspectFile(_deltas[2]);

        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressChain([_deltas[0], _deltas[2]], _root, restored))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.Message, Does.Contain("broken chain: link 2").And.Contain(third.BaseModelSha256).And.Contain(DeltaCodec.InspectFile(_deltas[0]).TargetModelSha256));
        Assert.That(ex.FilePath, Is.EqualTo(_deltas[2]));

        ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressChain([_deltas[1], _deltas[0]], _root, restored))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.Message, Does.Contain(second.BaseModelSha256));

        // The root of the chain must be the first link's base.
        ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.DecompressChain(_deltas, _checkpoints[0], restored))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.Message, Does.Contain("wrong base"));
        Assert.That(File.Exists(restored), Is.False);
    }

    [Test]
    public void DecompressChain_StartingFromAnIntermediateCheckpoint_Works()
    {
        // Any checkpoint on disk can serve as the root of the rest of the chain, in either file form.
        string restored = Path.Combine(_dir, "restored.safetensors");
        DeltaCodec.DecompressChain(_deltas[2..], _checkpoints[1], restored);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(Original(4))));
        DeltaCodec.DecompressFile(_deltas[3], _checkpoints[2], restored);
        Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(Original(4))));
    }

    [Test]
    public void DecompressChain_CorruptMiddleLink_ThrowsAndLeavesNoOutput()
    {
        byte[] bytes = File.ReadAllBytes(_deltas[1]);
        bytes[12] ^= 0x40; // inside the first stored segment
        File.WriteAllBytes(_deltas[1], bytes);
        string restored = Path.Combine(_dir, "restored.safetensors");
        Assert.That(() => DeltaCodec.DecompressChain(_deltas, _root, restored), Throws.InstanceOf<Z4AiException>());
        Assert.That(File.Exists(restored), Is.False);
        Assert.That(Directory.GetFiles(_dir, "*.tmp"), Is.Empty);
    }

    // Checkpoint k as a plain file (the container checkpoint restores to the plain file it was packed from).
    private string Original(int k) => k == 3 ? Path.Combine(_dir, "m3.safetensors") : _checkpoints[k - 1];
}
