using NUnit.Framework;
using Z4Ai.Certification;

namespace Z4Ai.Tests.Certification;

/// <summary>
/// The built-in task end to end on a small subset of Fashion-MNIST (skipped with a message when Debian's
/// dataset-fashion-mnist package is not installed): deterministic training, a fine-tune that changes predictions,
/// certified int8 and a refined 1-bit delta.
/// </summary>
public class FashionMnistTaskTests
{
    // Small enough for CI: 3,000 training images, 32 hidden units, one epoch each; 1,000 test images.
    private static readonly FashionMnistTraining Small = new(Hidden: 32, TrainExamples: 3000, BaseEpochs: 1, FineTuneExamples: 2000, FineTuneEpochs: 1);

    private string _dir = null!;

    [OneTimeSetUp]
    public void CreateDirectory() => _dir = Directory.CreateTempSubdirectory("z4ai-fmnist-").FullName;

    [OneTimeTearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    private static void RequireData() =>
        Assume.That(FashionMnistTask.IsDataAvailable(), Is.True,
            "Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist (or set Z4AI_FASHION_MNIST_DIR); see scripts/fashion-mnist.sh");

    [Test]
    public void TrainModels_TwiceInTwoFolders_SameBytesAndTheRecipeIsReused()
    {
        RequireData();
        (string base1, string fine1) = FashionMnistTask.TrainModels(Path.Combine(_dir, "a"), Small);
        (string base2, string fine2) = FashionMnistTask.TrainModels(Path.Combine(_dir, "b"), Small);
        Assert.That(File.ReadAllBytes(base2), Is.EqualTo(File.ReadAllBytes(base1)));
        Assert.That(File.ReadAllBytes(fine2), Is.EqualTo(File.ReadAllBytes(fine1)));
        DateTime written = File.GetLastWriteTimeUtc(fine1);
        FashionMnistTask.TrainModels(Path.Combine(_dir, "a"), Small);
        Assert.That(File.GetLastWriteTimeUtc(fine1), Is.EqualTo(written), "files with the same recipe are reused");
        Assert.That(File.ReadAllBytes(fine1), Is.Not.EqualTo(File.ReadAllBytes(base1)));
    }

    [Test]
    public void EndToEnd_SmallSubset_FineTuneChangesPredictionsAndInt8IsCertified()
    {
        RequireData();
        (string @base, string fineTune) = FashionMnistTask.TrainModels(Path.Combine(_dir, "e2e"), Small);
        var task = new FashionMnistTask(limit: 1000);
        TaskEvaluation b = task.Evaluate(@base, default);
        TaskEvaluation f = task.Evaluate(fineTune, default);
        Assert.That(b.Examples, Is.EqualTo(1000));
        Assert.That(b.Metric, Is.GreaterThan(60), "a trained model, far above the 10% of chance");
        Assert.That(f.DataSha256, Is.EqualTo(b.DataSha256));
        int changed = Enumerable.Range(0, 1000).Count(i => b.Predictions![i] != f.Predictions![i]);
        Assert.That(changed, Is.GreaterThan(20), "the fine-tune measurably changes behaviour");
        Assert.That(task.Evaluate(fineTune, default).Predictions, Is.EqualTo(f.Predictions), "evaluation is deterministic");

        string delta = Path.Combine(_dir, "e2e.z4al");
        LossyDelta.Compress(fineTune, @base, delta, new LossyOptions { Tier = LossyTier.Int8 });
        FidelityCertificate c = LossyDelta.Certify(delta, @base, fineTune, task);
        Assert.That(c.Evaluation.PredictionFlips, Is.LessThanOrEqualTo(2), c.ToJson());
        Assert.That(c.Passed, Is.True);
        Assert.That(c.Evaluation.BaseMetric, Is.EqualTo(b.Metric));
        Assert.That(LossyDelta.Verify(c, delta).IsValid, Is.True);
        Assert.That(LossyDelta.EnsureCertified(delta, c), Is.EqualTo(CertificationStatus.Certified));

        string onebit = Path.Combine(_dir, "e2e-1bit.z4al");
        ILossyCalibration calibration = FashionMnistTask.CreateCalibration(fineTune, 500);
        LossyDeltaInfo refined = LossyDelta.Compress(fineTune, @base, onebit, new LossyOptions { Tier = LossyTier.OneBit, RefineScales = true, Calibration = calibration });
        LossyDeltaInfo plain = LossyDelta.Compress(fineTune, @base, onebit + ".plain", new LossyOptions { Tier = LossyTier.OneBit });
        Assert.That(refined.Settings.RefineScales, Is.True);
        Assert.That(refined.ReconstructedSha256, Is.Not.EqualTo(plain.ReconstructedSha256), "refinement changes the scales");
    }

    [Test]
    public void Evaluate_MissingData_NamesThePackage()
    {
        string empty = Directory.CreateTempSubdirectory("z4ai-nodata-").FullName;
        try
        {
            var ex = Assert.Throws<Z4AiCertificationException>(() => new FashionMnistTask(empty).Evaluate("unused.safetensors", default));
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.EvaluatorFailed));
            Assert.That(ex.Message, Does.Contain("dataset-fashion-mnist").And.Contain(empty));
            Assert.That(FashionMnistTask.IsDataAvailable(empty), Is.False);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Test]
    public void Evaluate_ModelOfTheWrongShape_EvaluatorFailed()
    {
        RequireData();
        string path = Path.Combine(_dir, "wrong.safetensors");
        SafeTensorsCompat.SaveFile(
            new Dictionary<string, Tensor> { ["fc1.weight"] = Tensor.FromArray<float>(DType.F32, [4, 100], new float[400]) },
            path,
            options: new SaveOptions { Format = StorageFormat.SafeTensors });
        var ex = Assert.Throws<Z4AiCertificationException>(() => new FashionMnistTask(limit: 10).Evaluate(path, default));
        Assert.That(ex!.Message, Does.Contain("fc1.weight"));
    }

    [Test]
    public void ParseIdxHeader_Hostile_EvaluatorFailed()
    {
        byte[] good = [0, 0, 8, 1, 0, 0, 0, 2, 7, 3];
        Assert.That(FashionMnistData.ParseHeader(good, 1, [], "labels"), Is.EqualTo((2, 8)));
        byte[][] bad =
        [
            [],
            [0, 0, 9, 1, 0, 0, 0, 2, 7, 3],
            [0, 0, 8, 3, 0, 0, 0, 2, 7, 3],
            [0, 0, 8, 1, 0, 0, 0, 3, 7, 3],
            [0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF, 7, 3],
        ];
        foreach (byte[] file in bad)
        {
            Assert.Throws<Z4AiCertificationException>(() => FashionMnistData.ParseHeader(file, 1, [], "labels"));
        }

        Assert.Throws<Z4AiCertificationException>(() => FashionMnistData.ParseHeader([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 27, 0, 0, 0, 28], 3, [28, 28], "images"));
    }

    [Test]
    public void Exp_AgreesWithTheLibraryExponential()
    {
        for (double x = -745; x <= 0; x += 0.37)
        {
            double expected = Math.Exp(x);
            double actual = MlpTrainer.Exp(x);
            Assert.That(actual, x < -700 ? Is.EqualTo(0) : Is.EqualTo(expected).Within(1e-12).Percent, $"x = {x}");
        }

        Assert.That(MlpTrainer.Exp(0), Is.EqualTo(1.0));
    }
}
