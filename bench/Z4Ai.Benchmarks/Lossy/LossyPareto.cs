using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Z4Ai.Benchmarks.Lossy;

/// <summary>
/// The Pareto table of the lossy tiers on the built-in Fashion-MNIST task: per tier and setting, the delta's size
/// against the lossless delta and the fine-tune in full, accuracy before and after on the 10,000 test images,
/// prediction flips and the exact McNemar p-value. Run with
/// <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- lossy-pareto [--work DIR] [--data DIR] [--limit N]</c>.
/// </summary>
/// <remarks>
/// The models are trained by <see cref="FashionMnistTask.TrainModels"/> (deterministic, reused when the recipe
/// matches), so the first run includes training. The deltatensors reference point is "3.2x smaller than the full
/// model at +0.58% perplexity"; our comparable figure is the int4 delta's size against the full fine-tune at its
/// accuracy move.
/// </remarks>
public static class LossyPareto
{
    public static int Run(string[] args)
    {
        string work = Path.Combine(Path.GetTempPath(), "z4ai-lossy-pareto");
        string? data = null;
        int limit = 0;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            switch (args[i])
            {
                case "--work":
                    work = args[++i];
                    break;
                case "--data":
                    data = args[++i];
                    break;
                case "--limit":
                    limit = int.Parse(args[++i]);
                    break;
            }
        }

        if (!FashionMnistTask.IsDataAvailable(data))
        {
            Console.Error.WriteLine("Fashion-MNIST is not installed: run scripts/fashion-mnist.sh (Debian package dataset-fashion-mnist).");
            return 2;
        }

        Console.WriteLine($"{RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        var clock = Stopwatch.StartNew();
        (string basePath, string fineTunePath) = FashionMnistTask.TrainModels(work, dataDirectory: data);
        Console.WriteLine($"models: {fineTunePath} ({clock.Elapsed.TotalSeconds:0.0} s incl. training if not cached)");

        var task = new FashionMnistTask(data, limit);
        TaskEvaluation baseEval = task.Evaluate(basePath, default);
        TaskEvaluation fineEval = task.Evaluate(fineTunePath, default);
        CertificateEvaluation shift = Compare(task, fineEval, baseEval);
        long full = new FileInfo(fineTunePath).Length;
        Console.WriteLine(
            $"base {baseEval.Metric:0.00}% -> fine-tune {fineEval.Metric:0.00}% on {fineEval.Examples} test images; the fine-tune changes {shift.PredictionFlips} predictions "
            + $"(McNemar p = {shift.McNemarP:G3}); fine-tune in full: {full:N0} bytes");

        string lossless = Path.Combine(work, "lossless.z4al");
        LossyDeltaInfo losslessInfo = LossyDelta.Compress(fineTunePath, basePath, lossless, new LossyOptions { Tier = LossyTier.Lossless, Effort = CompressionEffort.Max });
        Console.WriteLine($"lossless delta: {losslessInfo.FileLength:N0} bytes ({(double)full / losslessInfo.FileLength:0.0}x smaller than the fine-tune)");
        Console.WriteLine();

        ILossyCalibration calibration = FashionMnistTask.CreateCalibration(fineTunePath, 2000, data);
        var rows = new (string Label, LossyOptions Options)[]
        {
            ("int8 per row", new LossyOptions { Tier = LossyTier.Int8 }),
            ("int8 group 64", new LossyOptions { Tier = LossyTier.Int8, GroupSize = 64 }),
            ("int4 per row, 0.5% outliers", new LossyOptions { Tier = LossyTier.Int4 }),
            ("int4 group 64, 0.5% outliers", new LossyOptions { Tier = LossyTier.Int4, GroupSize = 64 }),
            ("int4 per row, no outliers", new LossyOptions { Tier = LossyTier.Int4, OutlierFraction = 0 }),
            ("sparse top 10%", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.10 }),
            ("sparse top 5%", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.05 }),
            ("sparse top 2%", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.02 }),
            ("sparse top 20%, refined on inputs", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.20, RefineScales = true, Calibration = calibration }),
            ("sparse top 10%, refined on inputs", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.10, RefineScales = true, Calibration = calibration }),
            ("sparse top 5%, refined on inputs", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.05, RefineScales = true, Calibration = calibration }),
            ("sparse drop-and-rescale 10%", new LossyOptions { Tier = LossyTier.Sparse, SparseFraction = 0.10, DropAndRescale = true, Seed = 1 }),
            ("1bit, mean magnitude scale", new LossyOptions { Tier = LossyTier.OneBit }),
            ("1bit refined on inputs", new LossyOptions { Tier = LossyTier.OneBit, RefineScales = true, Calibration = calibration }),
        };

        Console.WriteLine("| tier | delta bytes | vs lossless delta | vs fine-tune | accuracy before -> after | move (points) | flips | McNemar p | 95% CI (points) | certificate passes (drop <= 0.2, p >= 0.05) | issue target (\\|move\\| <= 0.2, p >= 0.05) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- | --- |");
        foreach ((string label, LossyOptions options) in rows)
        {
            options.Effort = CompressionEffort.Max;
            string path = Path.Combine(work, $"{label.Replace(' ', '-').Replace('%', 'p').Replace(',', '_')}.z4al");
            LossyDeltaInfo info = LossyDelta.Compress(fineTunePath, basePath, path, options);
            FidelityCertificate cert = LossyDelta.Certify(path, basePath, fineTunePath, task, evaluateBase: false);
            CertificateEvaluation e = cert.Evaluation;
            Console.WriteLine(
                $"| {label} | {info.FileLength:N0} | {(double)losslessInfo.FileLength / info.FileLength:0.0}x | {(double)full / info.FileLength:0.0}x "
                + $"| {e.MetricBefore:0.00} -> {e.MetricAfter:0.00} | {e.MetricAfter - e.MetricBefore:+0.00;-0.00;0.00} | {e.PredictionFlips} | {e.McNemarP:0.###} "
                + $"| [{e.AccuracyChangeLow:+0.00;-0.00;0.00}, {e.AccuracyChangeHigh:+0.00;-0.00;0.00}] | {(cert.Passed ? "yes" : "no")} "
                + $"| {(Math.Abs(e.MetricAfter - e.MetricBefore) <= 0.2 && e.McNemarP >= 0.05 ? "met" : "missed")} |");
        }

        Console.WriteLine();
        Console.WriteLine($"total {clock.Elapsed.TotalSeconds:0.0} s");
        return 0;
    }

    // The fine-tune's own effect: base versus fine-tune, through the same comparison a certificate makes.
    private static CertificateEvaluation Compare(ICertificationTask task, TaskEvaluation fineTune, TaskEvaluation @base) =>
        Certification.Certifier.Compare(task, fineTune, @base, null, CertificationCriteria.Default);
}
