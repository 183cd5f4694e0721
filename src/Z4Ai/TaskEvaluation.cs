namespace Z4Ai;

/// <summary>The result of evaluating one model on a certification task.</summary>
/// <param name="MetricName">What <paramref name="Metric"/> is, such as <c>accuracy_percent</c>.</param>
/// <param name="Metric">The value (finite).</param>
/// <param name="HigherIsBetter">Whether a larger metric is better (accuracy) or worse (loss, perplexity).</param>
/// <param name="Examples">How many examples were evaluated.</param>
/// <param name="Predictions">The predicted class of each example, or null.</param>
/// <param name="Correct">Whether each example was answered correctly, or null.</param>
/// <param name="DataSha256">SHA-256 of the evaluation data, lowercase hex, or null when the evaluator does not say.</param>
public sealed record TaskEvaluation(
    string MetricName,
    double Metric,
    bool HigherIsBetter,
    int Examples,
    IReadOnlyList<int>? Predictions,
    IReadOnlyList<bool>? Correct,
    string? DataSha256);
