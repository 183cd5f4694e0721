using System.Text;
using NUnit.Framework;
using Z4Ai.Tests.Delta;

namespace Z4Ai.Tests.Certification;

/// <summary>Certificates: what they record, their canonical JSON, their binding to a delta, and the storing rule.</summary>
public class CertificateTests
{
    private string _dir = null!;
    private string _base = null!;
    private string _target = null!;
    private string _int8 = null!;
    private string _onebit = null!;
    private string _lossless = null!;
    private FidelityCertificate _certificate = null!;

    [OneTimeSetUp]
    public void CreateDeltas()
    {
        _dir = LossyTestModels.CreateDirectory();
        (_base, _target) = LossyTestModels.WritePair(_dir);
        _int8 = Path.Combine(_dir, "int8.z4al");
        _onebit = Path.Combine(_dir, "1bit.z4al");
        _lossless = Path.Combine(_dir, "lossless.z4al");
        LossyDelta.Compress(_target, _base, _int8, new LossyOptions { Tier = LossyTier.Int8 });
        LossyDelta.Compress(_target, _base, _onebit, new LossyOptions { Tier = LossyTier.OneBit });
        LossyDelta.Compress(_target, _base, _lossless, new LossyOptions { Tier = LossyTier.Lossless });
        _certificate = LossyDelta.Certify(_int8, _base, _target, new CertificationTestTask(_target));
    }

    [OneTimeTearDown]
    public void DeleteDeltas() => LossyTestModels.DeleteDirectory(_dir);

    [Test]
    public void Certify_Int8_RecordsDigestsResultsAndPasses()
    {
        LossyDeltaInfo info = LossyDelta.Inspect(_int8);
        FidelityCertificate c = _certificate;
        Assert.That(c.DeltaSha256, Is.EqualTo(info.FileSha256));
        Assert.That(c.BaseSha256, Is.EqualTo(info.BaseSha256));
        Assert.That(c.TargetSha256, Is.EqualTo(info.TargetSha256));
        Assert.That(c.ReconstructedSha256, Is.EqualTo(info.ReconstructedSha256).And.Not.EqualTo(info.TargetSha256));
        Assert.That(c.Settings.Tier, Is.EqualTo(LossyTier.Int8));
        Assert.That(c.Tensors.Single(t => t.Name == "layer.weight").Mode, Is.EqualTo(LossyTier.Int8));
        CertificateEvaluation e = c.Evaluation;
        Assert.That(e.Task, Is.EqualTo("sign-test"));
        Assert.That(e.Examples, Is.EqualTo(2000));
        Assert.That(e.MetricBefore, Is.EqualTo(100.0 * (2000 - 286) / 2000), "every seventh label is wrong for the target");
        Assert.That(e.BaseMetric, Is.Not.Null.And.LessThan(e.MetricBefore), "the base is measured too");
        Assert.That(e.PredictionFlips, Is.EqualTo(e.TargetOnlyCorrect + e.ReconstructedOnlyCorrect), "with two classes every flip changes correctness");
        Assert.That(e.McNemarP, Is.GreaterThanOrEqualTo(0.05));
        Assert.That(c.Passed, Is.True);
        Assert.That(LossyDelta.Verify(c, _int8).Problems, Is.Empty);
    }

    [Test]
    public void Certify_OneBit_FailsWithItsReason()
    {
        FidelityCertificate c = LossyDelta.Certify(_onebit, _base, _target, new CertificationTestTask(_target), new CertificationCriteria(MaxDrop: 0.2));
        Assert.That(c.Passed, Is.False, $"{c.Evaluation.MetricBefore} -> {c.Evaluation.MetricAfter}, p {c.Evaluation.McNemarP}");
        Assert.That(LossyDelta.Verify(c, _onebit).IsValid, Is.True, "a failed certificate is still a true record");
        var ex = Assert.Throws<Z4AiCertificationException>(() => LossyDelta.EnsureCertified(_onebit, c));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CertificationRequired));
        Assert.That(ex.Message, Does.Contain("certificate failed").And.Contain("accuracy_percent"));
        Assert.That(LossyDelta.EnsureCertified(_onebit, c, force: true), Is.EqualTo(CertificationStatus.Forced));
    }

    [Test]
    public void Json_ParseThenWrite_SameBytesAndDigest()
    {
        string json = _certificate.ToJson();
        Assert.That(json, Does.StartWith("{\n  \"format\": \"z4ai-fidelity-certificate\",\n  \"version\": 1,"));
        Assert.That(json, Does.Not.Contain("\r"));
        FidelityCertificate parsed = FidelityCertificate.Parse(json);
        Assert.That(parsed.ToJson(), Is.EqualTo(json));
        Assert.That(parsed.ComputeSha256(), Is.EqualTo(_certificate.ComputeSha256()));
        Assert.That(parsed.Evaluation, Is.EqualTo(_certificate.Evaluation));
        Assert.That(parsed.Settings, Is.EqualTo(_certificate.Settings));
        Assert.That(LossyDelta.Verify(parsed, File.ReadAllBytes(_int8)).IsValid, Is.True);

        string path = Path.Combine(_dir, "int8" + FidelityCertificate.FileExtension);
        _certificate.Save(path);
        Assert.That(File.ReadAllText(path), Is.EqualTo(json));
        Assert.That(FidelityCertificate.Load(path).ToJson(), Is.EqualTo(json));
    }

    [Test]
    public void Verify_TamperedCertificates_ReportTheMismatch()
    {
        var tampered = new Dictionary<string, FidelityCertificate>
        {
            ["delta digest"] = _certificate with { DeltaSha256 = new string('0', 64) },
            ["delta length"] = _certificate with { DeltaLength = _certificate.DeltaLength + 1 },
            ["base"] = _certificate with { BaseSha256 = _certificate.TargetSha256 },
            ["reconstruction"] = _certificate with { ReconstructedSha256 = _certificate.TargetSha256 },
            ["settings"] = _certificate with { Settings = _certificate.Settings with { GroupSize = 32 } },
            ["tensor error"] = _certificate with { Tensors = _certificate.Tensors.Select(t => t with { MaxAbs = t.MaxAbs / 2 }).ToArray() },
            ["verdict"] = _certificate with { Passed = false },
            ["p-value"] = _certificate with { Evaluation = _certificate.Evaluation with { McNemarP = 0.9999 } },
            ["counts"] = _certificate with { Evaluation = _certificate.Evaluation with { TargetOnlyCorrect = 500 } },
            ["interval"] = _certificate with { Evaluation = _certificate.Evaluation with { AccuracyChangeHigh = 3 } },
            ["result"] = _certificate with { Evaluation = _certificate.Evaluation with { MetricAfter = 10 } },
        };
        foreach ((string what, FidelityCertificate c) in tampered)
        {
            CertificateVerification v = LossyDelta.Verify(c, _int8);
            Assert.That(v.IsValid, Is.False, what);
            Assert.Throws<Z4AiCertificationException>(() => v.ThrowIfInvalid(), what);
            Assert.Throws<Z4AiCertificationException>(() => LossyDelta.EnsureCertified(_int8, c, force: true), $"{what}: a false certificate is refused even when forced");
        }
    }

    [Test]
    public void Verify_EditedJsonText_IsCaught()
    {
        string json = _certificate.ToJson();
        string edited = json.Replace("\"passed\": true", "\"passed\": false", StringComparison.Ordinal);
        Assert.That(edited, Is.Not.EqualTo(json));
        Assert.That(LossyDelta.Verify(FidelityCertificate.Parse(edited), _int8).IsValid, Is.False);
    }

    [Test]
    public void Verify_OtherDelta_Fails()
    {
        CertificateVerification v = LossyDelta.Verify(_certificate, _onebit);
        Assert.That(v.IsValid, Is.False);
        Assert.That(string.Join("\n", v.Problems), Does.Contain("SHA-256"));
    }

    [TestCase("")]
    [TestCase("not json")]
    [TestCase("[1, 2]")]
    [TestCase("{}")]
    [TestCase("{\"format\": \"something-else\", \"version\": 1}")]
    public void Parse_Garbage_ThrowsCertificateMismatch(string text)
    {
        var ex = Assert.Throws<Z4AiCertificationException>(() => FidelityCertificate.Parse(text));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CertificateMismatch));
        Assert.That(ex.Message, Does.StartWith("the certificate is malformed"));
    }

    [Test]
    public void Parse_MutatedCertificates_OnlyCertificationExceptions()
    {
        byte[] json = Encoding.UTF8.GetBytes(_certificate.ToJson());
        var random = new Random(8);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] mutated = (byte[])json.Clone();
            mutated[random.Next(mutated.Length)] = (byte)random.Next(32, 127);
            try
            {
                FidelityCertificate c = FidelityCertificate.Parse(mutated);
                LossyDelta.Verify(c, _int8);
            }
            catch (Z4AiCertificationException)
            {
            }
        }

        string newer = _certificate.ToJson().Replace("\"version\": 1", "\"version\": 2", StringComparison.Ordinal);
        Assert.That(() => FidelityCertificate.Parse(newer), Throws.InstanceOf<Z4AiCertificationException>().With.Message.Contains("version 2"));
    }

    [Test]
    public void EnsureCertified_Rules()
    {
        Assert.That(LossyDelta.EnsureCertified(_int8, _certificate), Is.EqualTo(CertificationStatus.Certified));
        Assert.That(LossyDelta.EnsureCertified(_lossless, null), Is.EqualTo(CertificationStatus.NotRequired));
        var ex = Assert.Throws<Z4AiCertificationException>(() => LossyDelta.EnsureCertified(_int8, null));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CertificationRequired));
        Assert.That(ex.Message, Does.Contain("no fidelity certificate"));
        Assert.That(LossyDelta.EnsureCertified(_int8, null, force: true), Is.EqualTo(CertificationStatus.Forced));
        var mismatch = Assert.Throws<Z4AiCertificationException>(() => LossyDelta.EnsureCertified(_onebit, _certificate));
        Assert.That(mismatch!.Kind, Is.EqualTo(Z4AiErrorKind.CertificateMismatch));
    }

    [Test]
    public void Certify_WrongTarget_CertificateMismatch()
    {
        var ex = Assert.Throws<Z4AiCertificationException>(() => LossyDelta.Certify(_int8, _base, _base, new CertificationTestTask(_target)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CertificateMismatch));
        Assert.That(ex.Message, Does.Contain("is not the model the delta was made from"));
    }

    [Test]
    public void Certify_InconsistentEvaluator_EvaluatorFailed()
    {
        int calls = 0;
        var task = new CertificationTestTask(_target) { Tamper = e => ++calls == 2 ? e with { Examples = 10, Predictions = null, Correct = null } : e };
        var ex = Assert.Throws<Z4AiCertificationException>(() => LossyDelta.Certify(_int8, _base, _target, task));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.EvaluatorFailed));
        Assert.That(ex.Message, Does.Contain("measured the models differently"));

        var nan = new CertificationTestTask(_target) { Tamper = e => e with { Metric = double.NaN } };
        Assert.That(() => LossyDelta.Certify(_int8, _base, _target, nan), Throws.InstanceOf<Z4AiCertificationException>().With.Message.Contains("NaN"));
        var shortList = new CertificationTestTask(_target) { Tamper = e => e with { Correct = e.Correct!.Take(5).ToArray() } };
        Assert.That(() => LossyDelta.Certify(_int8, _base, _target, shortList), Throws.InstanceOf<Z4AiCertificationException>().With.Message.Contains("correctness flags"));
    }

    [Test]
    public void Certify_ContainerBaseAndTarget_SameCertificateBinding()
    {
        string baseZ = Path.Combine(_dir, "cert-base.z4ai");
        string targetZ = Path.Combine(_dir, "cert-target.z4ai");
        Z4AiContainer.Compress(_base, baseZ);
        Z4AiContainer.Compress(_target, targetZ);
        FidelityCertificate c = LossyDelta.Certify(_int8, baseZ, targetZ, new CertificationTestTask(_target));
        Assert.That(c.ToJson(), Is.EqualTo(_certificate.ToJson()), "the evaluations see the same tensors, restored to safetensors");
    }
}
