namespace Z4Ai;

/// <summary>The task results recorded in a fidelity certificate.</summary>
/// <param name="Task">The task name.</param>
/// <param name="Evaluator">The evaluator's identity.</param>
/// <param name="DataSha256">SHA-256 of the evaluation data, or null when the evaluator does not say.</param>
/// <param name="Examples">How many examples were evaluated.</param>
/// <param name="MetricName">The metric.</param>
/// <param name="HigherIsBetter">Whether larger is better.</param>
/// <param name="BaseMetric">The base model's metric (what the fine-tune changed), or null when not measured.</param>
/// <param name="MetricBefore">The target (fine-tune) model's metric.</param>
/// <param name="MetricAfter">The reconstruction's metric.</param>
/// <param name="PredictionFlips">Examples whose prediction differs between target and reconstruction, or null.</param>
/// <param name="TargetOnlyCorrect">Examples the target answers correctly and the reconstruction does not, or null.</param>
/// <param name="ReconstructedOnlyCorrect">Examples the reconstruction answers correctly and the target does not, or null.</param>
/// <param name="McNemarP">The exact two-sided McNemar p-value on the discordant pairs, or null without per-example correctness.</param>
/// <param name="Confidence">The confidence level of the interval.</param>
/// <param name="AccuracyChangeLow">Lower end of the interval for the accuracy change, in percentage points, or null.</param>
/// <param name="AccuracyChangeHigh">Upper end of the interval, in percentage points, or null.</param>
public sealed record CertificateEvaluation(
    string Task,
    string Evaluator,
    string? DataSha256,
    int Examples,
    string MetricName,
    bool HigherIsBetter,
    double? BaseMetric,
    double MetricBefore,
    double MetricAfter,
    int? PredictionFlips,
    int? TargetOnlyCorrect,
    int? ReconstructedOnlyCorrect,
    double? McNemarP,
    double Confidence,
    double? AccuracyChangeLow,
    double? AccuracyChangeHigh)
{
    /// <summary>How much worse the reconstruction is, in metric units (negative when it is better).</summary>
    public double Drop => HigherIsBetter ? MetricBefore - MetricAfter : MetricAfter - MetricBefore;
}
