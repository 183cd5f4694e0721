using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// <c>z4ai delta --tier</c>, <c>undelta</c> and <c>info</c> on a lossy delta, end to end. Certification uses
/// <c>--eval-command</c> with tiny shell scripts printing JSON, so no data set is needed.
/// </summary>
[NonParallelizable]
public class LossyDeltaCliTests
{
    private string _dir = null!;
    private string _base = null!;
    private string _tuned = null!;

    private string Delta => Path.Combine(_dir, "tuned.z4al");

    private string Certificate => Path.Combine(_dir, "tuned.cert.json");

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-cli-lossy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
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

    /// <summary>An evaluator giving every model the same score: the reconstruction loses nothing.</summary>
    private string PassingEvaluator() => Script("pass.sh", "echo '{\"metric\": 90.5, \"metric_name\": \"accuracy_percent\", \"examples\": 100}'");

    /// <summary>An evaluator that scores the target (and the base) 90 and anything else 50.</summary>
    private string FailingEvaluator() => Script(
        "fail.sh",
        "case \"$1\" in *tuned.safetensors|*base.safetensors) echo '{\"metric\": 90}';; *) echo '{\"metric\": 50}';; esac");

    private string Script(string name, string body)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        return $"sh '{path}'";
    }

    private string[] LeftOvers() => Directory.GetFiles(_dir).Select(Path.GetFileName).Where(n => n!.EndsWith(".tmp", StringComparison.Ordinal) || n.Contains(".z4al") || n.Contains(".cert.json")).ToArray()!;

    [Test]
    public async Task Delta_Int8WithPassingEvaluator_WritesDeltaAndCertificate_InfoAndUndeltaWork()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--eval-command", PassingEvaluator(), "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Output, Does.Contain("int8").And.Contain("certification: PASS").And.Contain("(passed)"));
        Assert.That(File.Exists(Delta) && File.Exists(Certificate), Is.True);
        Assert.That(LossyDelta.Verify(FidelityCertificate.Load(Certificate), Delta).IsValid, Is.True);
        Assert.That(new FileInfo(Delta).Length, Is.LessThan(new FileInfo(_tuned).Length));

        CliResult info = await CliHarness.RunAsync("info", Delta);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("lossy delta").And.Contain("tier int8").And.Contain("matches this delta, PASSED").And.Contain("certification: PASS").And.Contain("q_proj"));

        CliResult json = await CliHarness.RunAsync("info", Delta, "--json");
        Assert.That(json.ExitCode, Is.EqualTo(ExitCodes.Ok), json.ToString());
        Assert.That(json.Output, Does.Contain("\"tier\": \"int8\"").And.Contain("\"passed\": true").And.Contain("\"matches\": true"));

        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult u = await CliHarness.RunAsync("undelta", Delta, "--base", _base, "-o", restored);
        Assert.That(u.ExitCode, Is.EqualTo(ExitCodes.Ok), u.ToString());
        Assert.That(u.Output, Does.Contain("lossy"));
        // Reconstruct checks every tensor against its recorded digest; here: same layout as the target, other values.
        Assert.That(new FileInfo(restored).Length, Is.EqualTo(new FileInfo(_tuned).Length));
        Assert.That(File.ReadAllBytes(restored), Is.Not.EqualTo(File.ReadAllBytes(_tuned)));
    }

    [TestCase("int4")]
    [TestCase("sparse")]
    [TestCase("1bit")]
    public async Task Delta_OtherTiers_StoreWithTheirTier(string tier)
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", tier, "--eval-command", PassingEvaluator(), "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(LossyDelta.Inspect(Delta).Settings.Tier.GetName(), Is.EqualTo(tier));
        Assert.That(FidelityCertificate.Load(Certificate).Passed, Is.True);
    }

    [Test]
    public async Task Delta_FailingCertificate_RefusesAndWritesNothing()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "1bit", "--eval-command", FailingEvaluator(), "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.BadInput), d.ToString());
        Assert.That(d.Output, Does.Contain("certification: FAIL"));
        Assert.That(d.Error, Does.Contain("lossy delta").And.Contain("certif"));
        Assert.That(LeftOvers(), Is.Empty);
    }

    [Test]
    public async Task Delta_FailingCertificateForced_StoresWithTheFailedCertificate()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int4", "--eval-command", FailingEvaluator(), "-o", Delta, "--force");
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Output, Does.Contain("did NOT pass"));
        Assert.That(FidelityCertificate.Load(Certificate).Passed, Is.False);

        CliResult info = await CliHarness.RunAsync("info", Delta);
        Assert.That(info.Output, Does.Contain("did NOT pass").And.Contain("certification: FAIL"));
    }

    [Test]
    public async Task Delta_NoEvaluatorNoForce_IsAUsageErrorAndWritesNothing()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Usage), d.ToString());
        Assert.That(d.Error, Does.Contain("--eval-command").And.Contain("--force"));
        Assert.That(LeftOvers(), Is.Empty);
    }

    [Test]
    public async Task Delta_NoEvaluatorForced_StoresUncertified_InfoSaysSo()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "-o", Delta, "--force");
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Output, Does.Contain("uncertified"));
        Assert.That(File.Exists(Certificate), Is.False);

        CliResult info = await CliHarness.RunAsync("info", Delta);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("certificate: none (uncertified)"));
    }

    [TestCase("echo hello; true", "no JSON")]
    [TestCase("echo 'boom' >&2; exit 3", "exited with code 3")]
    [TestCase("echo '{\"metric\": \"high\"}'", "metric")]
    public async Task Delta_BrokenEvaluator_FailsNamingTheCauseAndWritesNothing(string body, string expected)
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--eval-command", Script("broken.sh", body), "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.BadInput), d.ToString());
        Assert.That(d.Error, Does.Contain(expected));
        Assert.That(LeftOvers(), Is.Empty);
    }

    [TestCase("int3")]
    [TestCase("lossless")]
    public async Task Delta_BadTier_IsAUsageError(string tier)
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", tier, "--force", "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Usage), d.ToString());
        Assert.That(d.Error, Does.Contain("--tier"));
        Assert.That(LeftOvers(), Is.Empty);
    }

    [Test]
    public async Task Delta_EvaluatorWithoutTier_IsAUsageError()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--eval-command", PassingEvaluator(), "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Usage), d.ToString());
        Assert.That(d.Error, Does.Contain("--tier"));
    }

    [Test]
    public async Task Delta_BothCertifyAndEvalCommand_IsAUsageError()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--certify", "fashion-mnist", "--eval-command", PassingEvaluator(), "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Usage), d.ToString());
    }

    [Test]
    public async Task Info_CertificateOfAnotherDelta_ReportsTheMismatch()
    {
        CliResult a = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--eval-command", PassingEvaluator(), "-o", Delta);
        Assert.That(a.ExitCode, Is.EqualTo(ExitCodes.Ok), a.ToString());
        string other = Path.Combine(_dir, "other.z4al");
        CliResult b = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "1bit", "--eval-command", PassingEvaluator(), "-o", other);
        Assert.That(b.ExitCode, Is.EqualTo(ExitCodes.Ok), b.ToString());
        File.Copy(Path.Combine(_dir, "other.cert.json"), Certificate, overwrite: true);

        CliResult info = await CliHarness.RunAsync("info", Delta);
        Assert.That(info.ExitCode, Is.EqualTo(ExitCodes.Ok), info.ToString());
        Assert.That(info.Output, Does.Contain("does NOT match"));
        CliResult json = await CliHarness.RunAsync("info", Delta, "--json");
        Assert.That(json.Output, Does.Contain("\"matches\": false").And.Contain("\"passed\": false"));
    }

    [Test]
    public async Task Undelta_LossyDeltaWithWrongBase_FailsAndWritesNothing()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--force", "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        string restored = Path.Combine(_dir, "restored.safetensors");
        CliResult u = await CliHarness.RunAsync("undelta", Delta, "--base", _tuned, "-o", restored);
        Assert.That(u.ExitCode, Is.Not.EqualTo(ExitCodes.Ok), u.ToString());
        Assert.That(File.Exists(restored), Is.False);
    }

    [Test]
    public async Task Undelta_LossyDeltaWithoutOutput_DerivesTheName()
    {
        string delta = _tuned + ".z4al";
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--force");
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(File.Exists(delta), Is.True);
        File.Move(delta, Delta);
        CliResult u = await CliHarness.RunAsync("undelta", Delta, "--base", _base, "--force");
        Assert.That(u.ExitCode, Is.EqualTo(ExitCodes.Ok), u.ToString());
        Assert.That(u.Output, Does.Contain("tuned.safetensors"));
    }

    [Test]
    public async Task Delta_TensorTierOverride_KeepsMatchingTensorsExact()
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "1bit", "--tensor-tier", "*q_proj*=lossless", "--force", "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Ok), d.ToString());
        LossyDeltaInfo info = LossyDelta.Inspect(Delta);
        Assert.That(info.Tensors.Where(t => t.Name.Contains("q_proj", StringComparison.Ordinal)), Is.Not.Empty.And.All.Matches<LossyTensorInfo>(t => t.IsExact));
        // The demo fine-tune changes q_proj and v_proj alike, so v_proj shows the override is what kept q_proj exact.
        Assert.That(info.Tensors.Where(t => t.Name.Contains("v_proj", StringComparison.Ordinal)).Any(t => !t.IsExact), Is.True);
    }

    [TestCase("--tensor-tier", "q_proj")]
    [TestCase("--tensor-tier", "*=int3")]
    [TestCase("--outliers", "1.5")]
    [TestCase("--keep", "-0.1")]
    [TestCase("--group-size", "-4")]
    public async Task Delta_BadTierSetting_IsAUsageErrorAndWritesNothing(string option, string value)
    {
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int4", option, value, "--force", "-o", Delta);
        Assert.That(d.ExitCode, Is.EqualTo(ExitCodes.Usage), d.ToString());
        Assert.That(d.Error, Does.Contain(option));
        Assert.That(LeftOvers(), Is.Empty);
    }

    [Test]
    public async Task Delta_MissingDataSet_FailsNamingItAndWritesNothing()
    {
        string missing = Path.Combine(_dir, "no-such-data");
        CliResult d = await CliHarness.RunAsync("delta", _tuned, "--base", _base, "--tier", "int8", "--certify", "fashion-mnist", "--data", missing, "-o", Delta);
        Assert.That(d.ExitCode, Is.Not.EqualTo(ExitCodes.Ok), d.ToString());
        Assert.That(d.Error, Does.Contain("no-such-data"));
        Assert.That(LeftOvers(), Is.Empty);
    }
}
