using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// <c>z4ai registry add --tier</c>, <c>registry certify</c>, <c>registry info</c> and the certificate state in
/// <c>list</c>, end to end. Certification uses <c>--eval-command</c> scripts, and the built-in Fashion-MNIST task.
/// </summary>
[NonParallelizable]
public class RegistryLossyCliTests
{
    private string _dir = null!;
    private string _registry = null!;
    private string _base = null!;
    private string _tuned = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-registry-lossy-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _registry = Path.Combine(_dir, "zoo");
        Dictionary<string, Tensor> model = DemoModelFamily.CreateBase(new DemoModelFamily.Config(Vocabulary: 256, Hidden: 64, Layers: 2, Mlp: 128));
        Dictionary<string, Tensor> tuned = DemoModelFamily.CreateFineTune(model, 0.05);
        var options = new SaveOptions { Format = StorageFormat.SafeTensors };
        _base = Path.Combine(_dir, "base.safetensors");
        _tuned = Path.Combine(_dir, "tuned.safetensors");
        SafeTensorsCompat.SaveFile(model, _base, null, options);
        SafeTensorsCompat.SaveFile(tuned, _tuned, null, options);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string PassingEvaluator() => Script("pass.sh", "echo '{\"metric\": 90.5, \"metric_name\": \"accuracy_percent\", \"examples\": 100}'");

    /// <summary>Scores the target and the reference 90, the reconstruction 50.</summary>
    private string FailingEvaluator() => Script(
        "fail.sh",
        "case \"$1\" in *tuned.safetensors|*reference.safetensors) echo '{\"metric\": 90}';; *) echo '{\"metric\": 50}';; esac");

    private string Script(string name, string body)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        return $"sh '{path}'";
    }

    private string[] StoreFiles() => Directory.GetFiles(_registry, "*", SearchOption.AllDirectories)
        .Select(p => Path.GetRelativePath(_registry, p)).Where(p => !p.StartsWith("locks", StringComparison.Ordinal)).Order().ToArray();

    private static async Task<CliResult> Run(int expected, params string[] args)
    {
        CliResult r = await CliHarness.RunAsync(args);
        Assert.That(r.ExitCode, Is.EqualTo(expected), r.ToString());
        return r;
    }

    [Test]
    public async Task AddInt8_PassingEvaluator_ListedWithItsCertificate_InfoGetVerify()
    {
        await Run(ExitCodes.Ok, "registry", "init", _registry, _base, "--name", "base");
        CliResult add = await Run(ExitCodes.Ok, "registry", "add", _registry, _tuned, "--name", "ft", "--tier", "int8", "--eval-command", PassingEvaluator());
        Assert.That(add.Output, Does.Contain("certification: PASS").And.Contain("tier int8").And.Contain("approximated").And.Contain("added 'ft'"));

        CliResult list = await Run(ExitCodes.Ok, "registry", "list", _registry);
        Assert.That(list.Output, Does.Contain("int8 (passed)"));
        CliResult json = await Run(ExitCodes.Ok, "model-zoo", "list", _registry, "--json");
        Assert.That(json.Output, Does.Contain("\"tier\": \"int8\"").And.Contain("\"certificate\": \"passed\"").And.Contain("\"certificate\": \"none\""));

        CliResult info = await Run(ExitCodes.Ok, "registry", "info", _registry, "ft");
        Assert.That(info.Output, Does.Contain("tier:        int8").And.Contain("certificate: passed").And.Contain("certification: PASS"));
        CliResult infoJson = await Run(ExitCodes.Ok, "registry", "info", _registry, "ft", "--json");
        Assert.That(infoJson.Output, Does.Contain("\"binding\": \"registry-version\"").And.Contain("\"passed\": true"));
        CliResult baseInfo = await Run(ExitCodes.Ok, "registry", "info", _registry, "base");
        Assert.That(baseInfo.Output, Does.Contain("certificate: none (lossless"));

        string restored = Path.Combine(_dir, "ft.out.safetensors");
        await Run(ExitCodes.Ok, "registry", "get", _registry, "ft", "--out", restored);
        Assert.That(new FileInfo(restored).Length, Is.EqualTo(new FileInfo(_tuned).Length));
        Assert.That(File.ReadAllBytes(restored), Is.Not.EqualTo(File.ReadAllBytes(_tuned)), "a lossy version restores the reconstruction");
        CliResult verify = await Run(ExitCodes.Ok, "registry", "verify", _registry);
        Assert.That(verify.Output, Does.Contain("integrity: PASS (SHA-256)"));

        // Tampering with the stored certificate is caught by verify (exit code 3).
        string cert = Directory.GetFiles(Path.Combine(_registry, "certificates", "ft")).Single();
        File.WriteAllText(cert, File.ReadAllText(cert).Replace("90.5", "99.5", StringComparison.Ordinal));
        CliResult bad = await Run(ExitCodes.IntegrityFailure, "registry", "verify", _registry);
        Assert.That(bad.Output, Does.Contain("integrity: FAIL").And.Contain("certificate").And.Contain("breaks: ft"));
    }

    [Test]
    public async Task AddOneBit_FailingEvaluator_RefusedWithExit2AndNothingStored()
    {
        await Run(ExitCodes.Ok, "registry", "init", _registry, _base, "--name", "base");
        string[] before = StoreFiles();
        CliResult add = await Run(ExitCodes.BadInput, "registry", "add", _registry, _tuned, "--name", "ft", "--tier", "1bit", "--eval-command", FailingEvaluator());
        Assert.That(add.Error, Does.Contain("was not stored").And.Contain("did not pass"));
        Assert.That(StoreFiles(), Is.EqualTo(before));

        CliResult noTask = await Run(ExitCodes.Usage, "registry", "add", _registry, _tuned, "--name", "ft", "--tier", "int8");
        Assert.That(noTask.Error, Does.Contain("--certify fashion-mnist or --eval-command"));
        CliResult broken = await Run(ExitCodes.BadInput, "registry", "add", _registry, _tuned, "--name", "ft", "--tier", "int8", "--eval-command", Script("garbage.sh", "echo not json"));
        Assert.That(broken.Error, Does.Contain("JSON"));
        await Run(ExitCodes.Usage, "registry", "add", _registry, _tuned, "--name", "ft", "--eval-command", PassingEvaluator());
        await Run(ExitCodes.Usage, "registry", "add", _registry, _tuned, "--name", "ft", "--tier", "int9", "--force");
        Assert.That(StoreFiles(), Is.EqualTo(before));
    }

    [Test]
    public async Task AddForced_ThenCertify_StatusMovesFromForcedToPassed()
    {
        await Run(ExitCodes.Ok, "model-zoo", "init", _registry, _base, "--name", "base");
        CliResult add = await Run(ExitCodes.Ok, "model-zoo", "add", _registry, _tuned, "--name", "ft", "--tier", "int4", "--force");
        Assert.That(add.Output, Does.Contain("stored uncertified because of --force"));
        Assert.That((await Run(ExitCodes.Ok, "registry", "list", _registry)).Output, Does.Contain("int4 (forced)"));

        CliResult failed = await Run(ExitCodes.BadInput, "registry", "certify", _registry, "ft", "--target", _tuned, "--eval-command", FailingEvaluator());
        Assert.That(failed.Output, Does.Contain("did NOT pass"));
        Assert.That((await Run(ExitCodes.Ok, "registry", "list", _registry)).Output, Does.Contain("int4 (failed)"));

        CliResult passed = await Run(ExitCodes.Ok, "model-zoo", "certify", _registry, "ft", "--target", _tuned, "--eval-command", PassingEvaluator());
        Assert.That(passed.Output, Does.Contain("certification: PASS").And.Contain("stored for 'ft' (passed)"));
        Assert.That((await Run(ExitCodes.Ok, "registry", "list", _registry)).Output, Does.Contain("int4 (passed)"));
        CliResult log = await Run(ExitCodes.Ok, "registry", "log", _registry, "ft");
        Assert.That(log.Output, Does.Contain("int4 (certificate passed)"));

        CliResult wrong = await Run(ExitCodes.BadInput, "registry", "certify", _registry, "ft", "--target", _base, "--eval-command", PassingEvaluator());
        Assert.That(wrong.Error, Does.Contain("is not the model version 'ft' was made from"));
        await Run(ExitCodes.Usage, "registry", "certify", _registry, "ft", "--target", _tuned);

        await Run(ExitCodes.Ok, "registry", "gc", _registry, "--grace", "0");
        Assert.That((await Run(ExitCodes.Ok, "registry", "verify", _registry)).Output, Does.Contain("integrity: PASS"));
        Assert.That(Directory.GetFiles(Path.Combine(_registry, "certificates", "ft")), Has.Length.EqualTo(2), "gc keeps the version's certificates");
    }

    [Test]
    public async Task Help_DescribesTheLossyOptionsAndVerbs()
    {
        CliResult add = await Run(ExitCodes.Ok, "registry", "add", "--help");
        Assert.That(add.Output, Does.Contain("--tier").And.Contain("--certify").And.Contain("--eval-command").And.Contain("--max-drop").And.Contain("--force"));
        CliResult certify = await Run(ExitCodes.Ok, "model-zoo", "certify", "--help");
        Assert.That(certify.Output, Does.Contain("--task").And.Contain("--target").And.Contain("--eval-command"));
        CliResult registry = await Run(ExitCodes.Ok, "registry", "--help");
        Assert.That(registry.Output, Does.Contain("certify").And.Contain("info"));
    }

    [Test]
    public async Task FashionMnist_AddInt8AndCertify_EndToEnd()
    {
        Assert.That(FashionMnistTask.IsDataAvailable(), Is.True,
            "Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist (as .ci/run does) or set Z4AI_FASHION_MNIST_DIR; see scripts/fashion-mnist.sh");
        var small = new FashionMnistTraining(Hidden: 32, TrainExamples: 3000, BaseEpochs: 1, FineTuneExamples: 2000, FineTuneEpochs: 1);
        (string @base, string fineTune) = FashionMnistTask.TrainModels(Path.Combine(_dir, "fmnist"), small);
        await Run(ExitCodes.Ok, "registry", "init", _registry, @base, "--name", "base");
        CliResult add = await Run(ExitCodes.Ok, "registry", "add", _registry, fineTune, "--name", "ft", "--tier", "int8", "--certify", "fashion-mnist", "--limit", "1000", "--max-drop", "0.2");
        Assert.That(add.Output, Does.Contain("certification: PASS").And.Contain("fashion-mnist"));
        CliResult certify = await Run(ExitCodes.Ok, "registry", "certify", _registry, "ft", "--target", fineTune, "--task", "fashion-mnist", "--limit", "500", "--json");
        Assert.That(certify.Output, Does.Contain("\"examples\": 500").And.Contain("\"task\": \"fashion-mnist\""));
        Assert.That((await Run(ExitCodes.Ok, "registry", "list", _registry, "--json")).Output, Does.Contain("\"certificate\": \"passed\""));

        CliResult missing = await Run(ExitCodes.BadInput, "registry", "add", _registry, fineTune, "--name", "ft2", "--tier", "int8", "--certify", "fashion-mnist", "--data", Path.Combine(_dir, "nowhere"));
        Assert.That(missing.Error, Does.Contain("dataset-fashion-mnist"));
        Assert.That((await Run(ExitCodes.Ok, "registry", "list", _registry)).Output, Does.Not.Contain("ft2"));
    }
}
