using System.Text;
using NUnit.Framework;
using Z4Ai.Integrity;
using Z4Ai.Registry;
using Z4Ai.Tests.Registry;

namespace Z4Ai.Tests.Archival;

/// <summary>
/// A model's text files (config, tokenizer, card, *.txt) travel with its registry version archive-coded, come back
/// byte for byte with <c>get</c> and <c>export</c>, and a damaged one is refused.
/// </summary>
[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public class RegistryTextFilesTests
{
    private string _dir = null!;
    private string _model = null!;
    private string _store = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = RegistryTestData.TempDirectory();
        _model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(_model);
        _store = Path.Combine(_dir, "registry");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void InitGetExport_ModelWithTextFiles_RestoresThemByteForByte()
    {
        string path = RegistryTestData.Write(_model, "model.safetensors", RegistryTestData.Base());
        Dictionary<string, byte[]> texts = WriteTexts();
        File.WriteAllText(Path.Combine(_model, "weights.bin"), "not a text file of the model");
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), path, "base");

        string getDir = Path.Combine(_dir, "get");
        Directory.CreateDirectory(getDir);
        registry.Get("base", Path.Combine(getDir, "out.safetensors"));
        string exportDir = Path.Combine(_dir, "export");
        IReadOnlyList<string> exported = registry.Export("base", exportDir);
        Assert.Multiple(() =>
        {
            foreach ((string name, byte[] bytes) in texts)
            {
                Assert.That(File.ReadAllBytes(Path.Combine(getDir, name)), Is.EqualTo(bytes), name);
                Assert.That(File.ReadAllBytes(Path.Combine(exportDir, name)), Is.EqualTo(bytes), name);
            }

            Assert.That(exported.Select(Path.GetFileName), Is.SupersetOf(texts.Keys));
            Assert.That(File.Exists(Path.Combine(getDir, "weights.bin")), Is.False);
            Assert.That(RegistryTestData.Sha(Path.Combine(getDir, "out.safetensors")), Is.EqualTo(RegistryTestData.Sha(path)));
        });
    }

    [Test]
    public void Add_WithAnExtraTextFile_KeepsItAndGetRestoresIt()
    {
        string path = RegistryTestData.Write(_model, "model.safetensors", RegistryTestData.Base());
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), path, "base");
        string log = Path.Combine(_dir, "training.log");
        byte[] bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"step {i} loss {3.0 / (i + 1):0.0000}\n")));
        File.WriteAllBytes(log, bytes);
        registry.Add(path, "v1", textFiles: [log]);

        string getDir = Path.Combine(_dir, "get");
        Directory.CreateDirectory(getDir);
        registry.Get("base", Path.Combine(getDir, "base.safetensors"));
        Assert.That(File.Exists(Path.Combine(getDir, "training.log")), Is.False, "the base was added without it");
        registry.Get("v1", Path.Combine(getDir, "v1.safetensors"));
        Assert.That(File.ReadAllBytes(Path.Combine(getDir, "training.log")), Is.EqualTo(bytes));
    }

    [Test]
    public void Collect_TextFiles_AreArchivedSmallerThanTheirBytes()
    {
        RegistryTestData.Write(_model, "model.safetensors", RegistryTestData.Base());
        Dictionary<string, byte[]> texts = WriteTexts();
        ManifestText[] kept = RegistryTextFiles.Collect(Path.Combine(_model, "model.safetensors"), null, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(kept.Select(t => t.Path), Is.EqualTo(texts.Keys.Order(StringComparer.Ordinal)));
            Assert.That(kept.Sum(t => t.Archive.Length), Is.LessThan(texts.Values.Sum(b => b.Length) / 3));
            Assert.That(kept.All(t => t.Sha256 == Sha256Digest.Compute(texts[t.Path])), Is.True);
        });
    }

    [Test]
    public void ManifestJson_TextsMember_RoundTripsAndVersionsWithoutTextsHaveNone()
    {
        string path = RegistryTestData.Write(_model, "model.safetensors", RegistryTestData.Base());
        WriteTexts();
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(_store), path, "base");
        foreach (string name in Directory.GetFiles(_model).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            File.Delete(name);
        }

        registry.Add(path, "plain");
        byte[] withTexts = File.ReadAllBytes(ManifestPath("base"));
        byte[] without = File.ReadAllBytes(ManifestPath("plain"));
        Manifest back = ManifestJson.Parse(withTexts, "base", "test");
        Assert.Multiple(() =>
        {
            Assert.That(back.Texts.Select(t => t.Path), Is.EqualTo(new[] { "README.md", "config.json", "notes.txt", "tokenizer.json" }));
            Assert.That(ManifestJson.Write(back), Is.EqualTo(withTexts));
            Assert.That(ManifestJson.Parse(without, "plain", "test").Texts, Is.Empty);
            Assert.That(Encoding.UTF8.GetString(without), Does.Not.Contain("\"texts\""));
        });
    }

    [Test]
    public void Parse_TextNamingAPath_IsRefused()
    {
        string path = RegistryTestData.Write(_model, "model.safetensors", RegistryTestData.Base());
        File.WriteAllText(Path.Combine(_model, "config.json"), "{\"hidden_size\": 64}");
        ModelRegistry.Init(new LocalBlobStore(_store), path, "base");
        Manifest stored = ManifestJson.Parse(File.ReadAllBytes(ManifestPath("base")), "base", "test");
        var hostile = new Manifest(stored.Name, stored.Parent, stored.Base, stored.Created, stored.Tier, stored.Index, stored.Files)
        {
            Texts = [stored.Texts.Single() with { Path = "../config.json" }],
        };
        var error = Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(ManifestJson.Write(hostile), "base", "test"));
        Assert.That(error!.Message, Does.Contain("'../config.json' is not a plain file name"));
    }

    [Test]
    public void Decode_TextWhoseDigestDiffers_ThrowsIntegrityException()
    {
        File.WriteAllText(Path.Combine(_model, "config.json"), "{\"hidden_size\": 64}");
        ManifestText text = RegistryTextFiles.Collect(_model, null, CancellationToken.None).Single();
        var wrong = text with { Sha256 = Sha256Digest.Compute("other"u8) };
        Assert.Throws<Z4AiIntegrityException>(() => RegistryTextFiles.Decode(wrong, "base", "test"));
    }

    [Test]
    public void Collect_ExtraFileNamedLikeAModel_IsRefused()
    {
        string extra = Path.Combine(_dir, "other.safetensors");
        File.WriteAllText(extra, "x");
        Assert.Throws<ArgumentException>(() => RegistryTextFiles.Collect(_model, [extra], CancellationToken.None));
    }

    private string ManifestPath(string name) =>
        Path.Combine(_store, RegistryLayout.ManifestKey(name).Replace('/', Path.DirectorySeparatorChar));

    private Dictionary<string, byte[]> WriteTexts()
    {
        var card = new StringBuilder("# Tiny model\n\nA two-layer test model. ");
        for (int i = 0; i < 200; i++)
        {
            card.Append("Layer ").Append(i % 2).Append(" keeps its weights in bf16 and its norms in f32. ");
        }

        var vocab = new StringBuilder("{\"model\": {\"vocab\": {");
        for (int i = 0; i < 500; i++)
        {
            vocab.Append("\"tok").Append(i).Append("\": ").Append(i).Append(", ");
        }

        vocab.Append("\"end\": 500}}}");
        var texts = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["README.md"] = Encoding.UTF8.GetBytes(card.ToString()),
            ["config.json"] = Encoding.UTF8.GetBytes("{\"hidden_size\": 64, \"num_layers\": 2, \"dtype\": \"bfloat16\"}\n"),
            ["tokenizer.json"] = Encoding.UTF8.GetBytes(vocab.ToString()),
            ["notes.txt"] = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("trained for 3 epochs at lr 1e-4\n", 40))),
        };
        foreach ((string name, byte[] bytes) in texts)
        {
            File.WriteAllBytes(Path.Combine(_model, name), bytes);
        }

        return texts;
    }
}
