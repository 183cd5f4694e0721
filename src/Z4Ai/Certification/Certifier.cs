using Z4Ai.Delta;
using Z4Ai.Format;
using Z4Ai.Integrity;

namespace Z4Ai.Certification;

/// <summary>
/// Produces and checks fidelity certificates: reconstructs the delta into a temporary file, evaluates the target and
/// the reconstruction (and the base) with the same task, compares them, and binds the result to the delta's bytes.
/// </summary>
internal static class Certifier
{
    public static FidelityCertificate Certify(
        string deltaPath,
        string basePath,
        string targetPath,
        ICertificationTask task,
        CertificationCriteria criteria,
        bool evaluateBase,
        CancellationToken ct)
    {
        criteria.Validate();
        using LossyDeltaReader reader = LossyDeltaReader.Open(deltaPath);
        LossyDeltaInfo info = reader.GetInfo();
        string targetIdentity = ModelIdentity(targetPath);
        if (targetIdentity != info.TargetSha256)
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificateMismatch,
                $"{targetPath} is not the model the delta was made from: its identity is {targetIdentity}, the delta's target is {info.TargetSha256}");
        }

        string work = Path.Combine(Path.GetTempPath(), $"z4ai-certify-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string reconstructed = Path.Combine(work, "reconstructed.safetensors");
            reader.Reconstruct(basePath, reconstructed, progress: null, ct);
            TaskEvaluation before = Evaluate(task, targetPath, work, ct);
            TaskEvaluation after = Evaluate(task, reconstructed, work, ct);
            TaskEvaluation? baseline = evaluateBase ? Evaluate(task, basePath, work, ct) : null;
            CertificateEvaluation evaluation = Compare(task, before, after, baseline, criteria);
            return new FidelityCertificate(
                info.FileSha256,
                info.FileLength,
                info.FormatVersion,
                info.BaseSha256,
                info.TargetSha256,
                info.ReconstructedSha256,
                info.Settings,
                info.Tensors,
                evaluation,
                criteria,
                Passes(evaluation, criteria));
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temporary directory left behind is harmless.
            }
            catch (UnauthorizedAccessException)
            {
                // Same as above.
            }
        }
    }

    /// <summary>Compares two evaluations of the same task on the same data.</summary>
    public static CertificateEvaluation Compare(
        ICertificationTask task, TaskEvaluation before, TaskEvaluation after, TaskEvaluation? baseline, CertificationCriteria criteria)
    {
        Check(task, before);
        Check(task, after);
        if (baseline is not null)
        {
            Check(task, baseline);
        }

        foreach (TaskEvaluation other in baseline is null ? [after] : new[] { after, baseline })
        {
            if (other.MetricName != before.MetricName || other.HigherIsBetter != before.HigherIsBetter
                || other.Examples != before.Examples || other.DataSha256 != before.DataSha256
                || (other.Predictions is null) != (before.Predictions is null) || (other.Correct is null) != (before.Correct is null))
            {
                throw new Z4AiCertificationException(
                    Z4AiErrorKind.EvaluatorFailed,
                    $"the evaluator '{task.Evaluator}' measured the models differently ({before.MetricName} on {before.Examples} examples, data {before.DataSha256 ?? "unknown"}; "
                    + $"then {other.MetricName} on {other.Examples} examples, data {other.DataSha256 ?? "unknown"}); the results cannot be compared");
            }
        }

        int? flips = null;
        if (before.Predictions is { } p0 && after.Predictions is { } p1)
        {
            int count = 0;
            for (int i = 0; i < p0.Count; i++)
            {
                count += p0[i] != p1[i] ? 1 : 0;
            }

            flips = count;
        }

        int? targetOnly = null;
        int? reconstructedOnly = null;
        double? p = null;
        double? low = null;
        double? high = null;
        if (before.Correct is { } c0 && after.Correct is { } c1)
        {
            int b = 0;
            int c = 0;
            for (int i = 0; i < c0.Count; i++)
            {
                b += c0[i] && !c1[i] ? 1 : 0;
                c += !c0[i] && c1[i] ? 1 : 0;
            }

            targetOnly = b;
            reconstructedOnly = c;
            p = McNemarTest.ExactPValue(b, c);
            (double lo, double hi) = McNemarTest.ChangeInterval(b, c, before.Examples, criteria.Confidence);
            low = lo * 100;
            high = hi * 100;
        }

        return new CertificateEvaluation(
            task.Name,
            task.Evaluator,
            before.DataSha256,
            before.Examples,
            before.MetricName,
            before.HigherIsBetter,
            baseline?.Metric,
            before.Metric,
            after.Metric,
            flips,
            targetOnly,
            reconstructedOnly,
            p,
            criteria.Confidence,
            low,
            high);
    }

    /// <summary>The pass rule: the drop is within the criteria and, with per-example data, McNemar p is high enough.</summary>
    public static bool Passes(CertificateEvaluation e, CertificationCriteria criteria) =>
        e.Drop <= criteria.MaxDrop && (e.McNemarP is not { } p || p >= criteria.MinPValue);

    /// <summary>Why a certificate failed, in words.</summary>
    public static string FailureReason(CertificateEvaluation e, CertificationCriteria criteria)
    {
        var reasons = new List<string>();
        if (e.Drop > criteria.MaxDrop)
        {
            reasons.Add($"{e.MetricName} dropped by {e.Drop:0.####} ({e.MetricBefore:0.####} -> {e.MetricAfter:0.####}), more than the {criteria.MaxDrop} allowed");
        }

        if (e.McNemarP is { } p && p < criteria.MinPValue)
        {
            reasons.Add($"the reconstruction's predictions differ significantly from the target's (exact McNemar p = {p:0.####} < {criteria.MinPValue}; {e.TargetOnlyCorrect} lost, {e.ReconstructedOnlyCorrect} gained)");
        }

        return reasons.Count == 0 ? "it passed" : string.Join("; ", reasons);
    }

    /// <summary>Checks a certificate against a delta's description: binding by hashes, and internal consistency.</summary>
    public static CertificateVerification Verify(FidelityCertificate certificate, LossyDeltaInfo info)
    {
        var problems = new List<string>();
        void Expect(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }

        Expect(certificate.DeltaBinding is null, $"the certificate is bound to a {certificate.DeltaBinding}, not to a .z4al file");
        Expect(certificate.DeltaSha256 == info.FileSha256, $"the delta's SHA-256 is {info.FileSha256}, the certificate names {certificate.DeltaSha256}");
        Expect(certificate.DeltaLength == info.FileLength, $"the delta is {info.FileLength} bytes, the certificate says {certificate.DeltaLength}");
        Expect(certificate.DeltaFormatVersion == info.FormatVersion, $"the delta has format version {info.FormatVersion}, the certificate says {certificate.DeltaFormatVersion}");
        Expect(certificate.BaseSha256 == info.BaseSha256, $"the delta's base is {info.BaseSha256}, the certificate names {certificate.BaseSha256}");
        Expect(certificate.TargetSha256 == info.TargetSha256, $"the delta's target is {info.TargetSha256}, the certificate names {certificate.TargetSha256}");
        Expect(certificate.ReconstructedSha256 == info.ReconstructedSha256, $"the delta reconstructs {info.ReconstructedSha256}, the certificate names {certificate.ReconstructedSha256}");
        Expect(certificate.Settings == info.Settings, "the tier settings differ from the delta's");
        Expect(certificate.Tensors.Count == info.Tensors.Count, $"the delta has {info.Tensors.Count} tensors, the certificate lists {certificate.Tensors.Count}");
        for (int i = 0; i < Math.Min(certificate.Tensors.Count, info.Tensors.Count); i++)
        {
            LossyTensorInfo a = certificate.Tensors[i];
            LossyTensorInfo b = info.Tensors[i];
            bool same = a.Name == b.Name && a.DType == b.DType && a.Shape.SequenceEqual(b.Shape) && a.Mode == b.Mode
                && a.RawBytes == b.RawBytes && a.StoredBytes == b.StoredBytes && SameMeasure(a.RelativeL2, b.RelativeL2)
                && SameMeasure(a.RelativeL2OfDelta, b.RelativeL2OfDelta) && SameMeasure(a.MaxAbs, b.MaxAbs)
                && a.TargetSha256 == b.TargetSha256 && a.BaseSha256 == b.BaseSha256 && a.ReconstructedSha256 == b.ReconstructedSha256;
            Expect(same, $"tensor {i} ('{b.Name}') differs from the delta's record");
        }

        problems.AddRange(CheckConsistency(certificate));
        return new CertificateVerification(problems);
    }

    /// <summary>Recomputes what a certificate derives from its own counts, so edited numbers are caught.</summary>
    public static IEnumerable<string> CheckConsistency(FidelityCertificate certificate)
    {
        CertificateEvaluation e = certificate.Evaluation;
        if (e.TargetOnlyCorrect is { } b && e.ReconstructedOnlyCorrect is { } c)
        {
            if (b < 0 || c < 0 || b + c > e.Examples)
            {
                yield return $"the discordant counts {b} and {c} do not fit {e.Examples} examples";
                yield break;
            }

            if (e.McNemarP != McNemarTest.ExactPValue(b, c))
            {
                yield return $"the McNemar p-value {e.McNemarP} does not follow from the counts {b} and {c} (it is {McNemarTest.ExactPValue(b, c)})";
            }

            (double lo, double hi) = McNemarTest.ChangeInterval(b, c, e.Examples, e.Confidence);
            if (e.AccuracyChangeLow != lo * 100 || e.AccuracyChangeHigh != hi * 100)
            {
                yield return "the confidence interval does not follow from the counts";
            }

            if (e.PredictionFlips is { } flips && flips < b + c)
            {
                yield return $"{flips} prediction flips cannot produce {b + c} discordant pairs";
            }
        }
        else if (e.McNemarP is not null || e.AccuracyChangeLow is not null || e.AccuracyChangeHigh is not null)
        {
            yield return "a McNemar result is given without the discordant counts";
        }

        if (e.Confidence != certificate.Criteria.Confidence)
        {
            yield return "the interval's confidence differs from the criteria's";
        }

        if (certificate.Passed != Passes(e, certificate.Criteria))
        {
            yield return $"the certificate says passed = {certificate.Passed}, but its results give {!certificate.Passed}";
        }
    }

    /// <summary>The identity of the model in a .safetensors or .z4ai file.</summary>
    public static string ModelIdentity(string path)
    {
        using TensorFile file = TensorFile.Open(path);
        Dictionary<string, ContainerEntry>? stored = file is ContainerTensorFile c
            ? c.Reader.Tensors.ToDictionary(e => e.Name, StringComparer.Ordinal)
            : null;
        var entries = new List<LossyDigestEntry>(file.Tensors.Count);
        foreach (TensorInfo t in file.Tensors)
        {
            Sha256Digest digest = stored is not null ? new Sha256Digest(stored[t.Name].Sha256) : Sha256Digest.Compute(file.ReadTensor(t.Name));
            entries.Add(new LossyDigestEntry(t.Name, t.DType, t.Shape, t.ByteLength, digest));
        }

        return LossyModelDigest.Compute(entries).ToString();
    }

    private static bool SameMeasure(double a, double b) => a.Equals(b);

    /// <summary>Evaluates a model with a task (a <c>.z4ai</c> file is unpacked into <paramref name="work"/> first).</summary>
    public static TaskEvaluation Evaluate(ICertificationTask task, string modelPath, string work, CancellationToken ct)
    {
        string path = CertificateFiles.AsSafeTensors(modelPath, work, out _);
        ct.ThrowIfCancellationRequested();
        return task.Evaluate(path, ct) ?? throw new Z4AiCertificationException(
            Z4AiErrorKind.EvaluatorFailed, $"the evaluator '{task.Evaluator}' returned no result for {modelPath}");
    }

    private static void Check(ICertificationTask task, TaskEvaluation e)
    {
        string? problem = null;
        if (!double.IsFinite(e.Metric))
        {
            problem = $"its metric is {e.Metric}";
        }
        else if (e.Examples < 0)
        {
            problem = $"it reports {e.Examples} examples";
        }
        else if (e.Predictions is { } p && p.Count != e.Examples)
        {
            problem = $"it gives {p.Count} predictions for {e.Examples} examples";
        }
        else if (e.Correct is { } c && c.Count != e.Examples)
        {
            problem = $"it gives {c.Count} correctness flags for {e.Examples} examples";
        }
        else if (string.IsNullOrEmpty(e.MetricName))
        {
            problem = "its metric has no name";
        }
        else if (e.DataSha256 is { } d && (!Sha256Digest.TryParse(d, out Sha256Digest digest) || digest.ToString() != d))
        {
            problem = $"its data digest '{d}' is not a lowercase SHA-256";
        }

        if (problem is not null)
        {
            throw new Z4AiCertificationException(Z4AiErrorKind.EvaluatorFailed, $"the evaluator '{task.Evaluator}' returned an unusable result: {problem}");
        }
    }
}
