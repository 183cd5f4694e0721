using System.Security.Cryptography;
using System.Text.Json;
using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

[NonParallelizable]
public class RegistryCliTests
{
    private string _dir = null!;
    private string _registry = null!;
    private Dictionary<string, string> _files = null!;
    private Dictionary<string, Tensor> _checkpoint = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-registry-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _registry = Path.Combine(_dir, "zoo");
        Dictionary<string, Tensor> b = DemoModelFamily.CreateBase(new DemoModelFamily.Config(Vocabulary: 512, Hidden: 64, Layers: 2, Mlp: 128));
        Dictionary<string, Tensor> ft = DemoModelFamily.CreateFineTune(b, 0.05, 2);
        _checkpoint = DemoModelFamily.CreateFineTune(ft, 0.3, 3);
        _files = new Dictionary<string, string>
        {
            ["base"] = Save("base.safetensors", b),
            ["ft"] = Save("ft.safetensors", ft),
            ["ck"] = Save("ck.safetensors", _checkpoint),
        };
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task RegistryVerbs_EndToEnd_RestoreByteForByte()
    {
        await Ok("registry", "init", _registry, _files["base"], "--name", "base");
        CliResult add = await Ok("registry", "add", _registry, _files["ft"], "--name", "ft");
        Assert.That(add.Output, Does.Contain("added 'ft' (parent base)").And.Contain("delta-parent"));
        await Ok("registry", "add", _registry, _files["ck"], "--name", "ck", "--parent", "ft");

        CliResult list = await Ok("registry", "list", _registry);
        Assert.That(list.Output, Does.Contain("base").And.Contain("(base)").And.Contain("lossless").And.Contain("3 versions"));
        Assert.That(list.Output, Does.Contain("if each were stored in full"));

        CliResult log = await Ok("registry", "log", _registry, "ck");
        string[] lines = log.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Select(l => l.Split("  ")[0]), Is.EqualTo(new[] { "ck", "ft", "base" }));

        string restored = Path.Combine(_dir, "ck.out.safetensors");
        CliResult get = await Ok("registry", "get", _registry, "ck", "--out", restored);
        Assert.That(get.Output, Does.Contain("verified (SHA-256)"));
        Assert.That(Sha(restored), Is.EqualTo(Sha(_files["ck"])));

        string raw = Path.Combine(_dir, "q.bin");
        await Ok("registry", "get-tensor", _registry, "ck", "model.layers.0.self_attn.q_proj.weight", "--out", raw);
        Assert.That(File.ReadAllBytes(raw), Is.EqualTo(_checkpoint["model.layers.0.self_attn.q_proj.weight"].Data.ToArray()));

        CliResult verify = await Ok("registry", "verify", _registry);
        Assert.That(verify.Output, Does.StartWith("integrity: PASS (SHA-256)"));
        CliResult one = await Ok("registry", "verify", _registry, "ft");
        Assert.That(one.Output, Does.Contain("1 versions"));

        CliResult rmParent = await CliHarness.RunAsync("registry", "rm", _registry, "ft");
        Assert.That(rmParent.ExitCode, Is.EqualTo(ExitCodes.BadInput), rmParent.ToString());
        Assert.That(rmParent.Error, Does.Contain("conflict").And.Contain("ck"));
        await Ok("registry", "rm", _registry, "ck");
        CliResult gc = await Ok("registry", "gc", _registry, "--grace", "0");
        Assert.That(gc.Output, Does.Match("gc: [1-9][0-9]* of [0-9]+ objects deleted"));
        await Ok("registry", "verify", _registry);
    }

    [Test]
    public async Task ModelZoo_IsTheSameCommand()
    {
        await Ok("model-zoo", "init", _registry, _files["base"]);
        await Ok("model-zoo", "add", _registry, _files["ft"]);
        CliResult list = await Ok("model-zoo", "list", _registry, "--json");
        using JsonDocument doc = JsonDocument.Parse(list.Output);
        JsonElement versions = doc.RootElement.GetProperty("versions");
        Assert.That(versions.GetArrayLength(), Is.EqualTo(2));
        Assert.That(versions[1].GetProperty("name").GetString(), Is.EqualTo("ft"), "the name defaults to the file name");
        Assert.That(versions[1].GetProperty("parent").GetString(), Is.EqualTo("base"));
        Assert.That(doc.RootElement.GetProperty("objectBytes").GetInt64(), Is.GreaterThan(0));
    }

    [Test]
    public async Task JsonOutputs_ParseAndCarryTheFacts()
    {
        await Ok("registry", "init", _registry, _files["base"], "--name", "base");
        CliResult add = await Ok("registry", "add", _registry, _files["ft"], "--name", "ft", "--json");
        using (JsonDocument doc = JsonDocument.Parse(add.Output))
        {
            Assert.That(doc.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("storage").GetString()), Does.Contain("copy").And.Contain("delta-parent"));
        }

        using (JsonDocument log = JsonDocument.Parse((await Ok("registry", "log", _registry, "ft", "--json")).Output))
        {
            Assert.That(log.RootElement.EnumerateArray().Select(v => v.GetProperty("name").GetString()), Is.EqualTo(new[] { "ft", "base" }));
        }

        using JsonDocument verify = JsonDocument.Parse((await Ok("registry", "verify", _registry, "--json")).Output);
        Assert.That(verify.RootElement.GetProperty("integrity").GetString(), Is.EqualTo("PASS"));
        Assert.That(verify.RootElement.GetProperty("objectsChecked").GetInt32(), Is.GreaterThan(0));
        using JsonDocument gc = JsonDocument.Parse((await Ok("registry", "gc", _registry, "--json")).Output);
        Assert.That(gc.RootElement.GetProperty("objectsDeleted").GetInt32(), Is.Zero);
    }

    [Test]
    public async Task Verify_CorruptObject_FailsWithExitCode3AndNamesTheVersions()
    {
        await Ok("registry", "init", _registry, _files["base"], "--name", "base");
        await Ok("registry", "add", _registry, _files["ft"], "--name", "ft");
        string victim = Directory.GetFiles(Path.Combine(_registry, "objects"), "*", SearchOption.AllDirectories).OrderByDescending(f => new FileInfo(f).Length).First();
        byte[] bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(victim, bytes);

        CliResult verify = await CliHarness.RunAsync("registry", "verify", _registry);
        Assert.That(verify.ExitCode, Is.EqualTo(ExitCodes.IntegrityFailure), verify.ToString());
        Assert.That(verify.Output, Does.StartWith("integrity: FAIL (SHA-256)").And.Contain("breaks:").And.Contain("broken versions:"));
        using JsonDocument json = JsonDocument.Parse((await CliHarness.RunAsync("registry", "verify", _registry, "--json")).Output);
        Assert.That(json.RootElement.GetProperty("brokenVersions").GetArrayLength(), Is.GreaterThan(0));

        string output = Path.Combine(_dir, "broken.safetensors");
        CliResult get = await CliHarness.RunAsync("registry", "get", _registry, "base", "--out", output);
        Assert.That(get.ExitCode, Is.AnyOf(ExitCodes.IntegrityFailure, ExitCodes.BadInput), get.ToString());
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public async Task Errors_HaveTheDocumentedExitCodes()
    {
        await Ok("registry", "init", _registry, _files["base"], "--name", "base");
        CliResult unknown = await CliHarness.RunAsync("registry", "get", _registry, "nope", "--out", Path.Combine(_dir, "x"));
        Assert.That(unknown.ExitCode, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(unknown.Error, Does.Contain("not found").And.Contain("nope"));

        CliResult taken = await CliHarness.RunAsync("registry", "add", _registry, _files["ft"], "--name", "base");
        Assert.That(taken.ExitCode, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(taken.Error, Does.Contain("conflict").And.Contain("already exists"));

        CliResult again = await CliHarness.RunAsync("registry", "init", _registry, _files["base"]);
        Assert.That(again.ExitCode, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(again.Error, Does.Contain("already a registry"));

        CliResult notRegistry = await CliHarness.RunAsync("registry", "list", _dir);
        Assert.That(notRegistry.ExitCode, Is.EqualTo(ExitCodes.BadInput));
        Assert.That(notRegistry.Error, Does.Contain("not a Z4Ai registry"));

        CliResult missingDir = await CliHarness.RunAsync("registry", "list", Path.Combine(_dir, "nowhere"));
        Assert.That(missingDir.ExitCode, Is.EqualTo(ExitCodes.IoError));

        CliResult missingFile = await CliHarness.RunAsync("registry", "add", _registry, Path.Combine(_dir, "absent.safetensors"));
        Assert.That(missingFile.ExitCode, Is.EqualTo(ExitCodes.IoError));

        CliResult badName = await CliHarness.RunAsync("registry", "add", _registry, _files["ft"], "--name", "a/b");
        Assert.That(badName.ExitCode, Is.EqualTo(ExitCodes.Usage));

        CliResult badGrace = await CliHarness.RunAsync("registry", "gc", _registry, "--grace", "soon");
        Assert.That(badGrace.ExitCode, Is.EqualTo(ExitCodes.Usage));

        CliResult missingOut = await CliHarness.RunAsync("registry", "get", _registry, "base");
        Assert.That(missingOut.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(Directory.GetFiles(Path.Combine(_registry, "manifests")), Has.Length.EqualTo(1), "failed commands changed nothing");
    }

    [Test]
    public async Task Help_IsAvailableForEveryVerbUnderBothNames()
    {
        foreach (string name in new[] { "registry", "model-zoo" })
        {
            CliResult help = await CliHarness.RunAsync(name, "--help");
            Assert.That(help.ExitCode, Is.EqualTo(ExitCodes.Ok));
            foreach (string verb in new[] { "init", "add", "import", "get", "export", "get-tensor", "verify", "list", "log", "rm", "gc" })
            {
                Assert.That(help.Output, Does.Contain(verb), $"{name} --help lists {verb}");
                CliResult verbHelp = await CliHarness.RunAsync(name, verb, "--help");
                Assert.That(verbHelp.ExitCode, Is.EqualTo(ExitCodes.Ok), $"{name} {verb} --help");
                Assert.That(verbHelp.Output, Does.Contain("Exit codes"));
            }
        }
    }

    [Test]
    public async Task ImportExport_ShardedLayout_ByteForByte()
    {
        await Ok("registry", "init", _registry, _files["base"], "--name", "base");
        string hf = Path.Combine(_dir, "hf");
        Directory.CreateDirectory(hf);
        var first = _checkpoint.Where(p => p.Key.Contains("layers.0", StringComparison.Ordinal)).ToDictionary();
        var second = _checkpoint.Where(p => !p.Key.Contains("layers.0", StringComparison.Ordinal)).ToDictionary();
        SafeTensorsCompat.SaveFile(first, Path.Combine(hf, "model-00001-of-00002.safetensors"), options: new SaveOptions { Format = StorageFormat.SafeTensors });
        SafeTensorsCompat.SaveFile(second, Path.Combine(hf, "model-00002-of-00002.safetensors"), options: new SaveOptions { Format = StorageFormat.SafeTensors });
        string map = string.Join(",\n", first.Keys.Select(k => $"    \"{k}\": \"model-00001-of-00002.safetensors\"").Concat(second.Keys.Select(k => $"    \"{k}\": \"model-00002-of-00002.safetensors\"")));
        File.WriteAllText(Path.Combine(hf, "model.safetensors.index.json"), "{\n  \"metadata\": {},\n  \"weight_map\": {\n" + map + "\n  }\n}\n");

        CliResult import = await Ok("registry", "import", _registry, hf, "--name", "hf");
        Assert.That(import.Output, Does.Contain("added 'hf'"));
        string exported = Path.Combine(_dir, "exported");
        CliResult export = await Ok("registry", "export", _registry, "hf", "--out-dir", exported);
        Assert.That(export.Output, Does.Contain("model.safetensors.index.json"));
        foreach (string file in Directory.GetFiles(hf))
        {
            Assert.That(Sha(Path.Combine(exported, Path.GetFileName(file))), Is.EqualTo(Sha(file)), file);
        }
    }

    private static async Task<CliResult> Ok(params string[] args)
    {
        CliResult r = await CliHarness.RunAsync(args);
        Assert.That(r.ExitCode, Is.EqualTo(ExitCodes.Ok), r.ToString());
        return r;
    }

    private string Save(string name, Dictionary<string, Tensor> model)
    {
        string path = Path.Combine(_dir, name);
        SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    private static string Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
