namespace Z4Ai;

/// <summary>What a reconstruction must achieve for its certificate to pass.</summary>
/// <param name="MaxDrop">
/// The largest allowed worsening of the metric, in the metric's own units (accuracy points for the built-in task,
/// which reports percent); default 0.2.
/// </param>
/// <param name="MinPValue">
/// When the task gives per-example correctness, the exact McNemar p-value must be at least this (default 0.05): the
/// reconstruction must not be distinguishable from the target.
/// </param>
/// <param name="Confidence">The confidence level of the interval for the accuracy change (default 0.95).</param>
public sealed record CertificationCriteria(double MaxDrop = 0.2, double MinPValue = 0.05, double Confidence = 0.95)
{
    /// <summary>The defaults: a drop of at most 0.2, p ≥ 0.05, 95% intervals.</summary>
    public static CertificationCriteria Default { get; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">MaxDrop is negative or not finite, MinPValue outside [0, 1], or Confidence outside (0, 1).</exception>
    public void Validate()
    {
        if (!(MaxDrop >= 0) || double.IsInfinity(MaxDrop))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDrop), MaxDrop, "max drop must be finite and non-negative");
        }

        if (!(MinPValue >= 0 && MinPValue <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinPValue), MinPValue, "min p-value must be between 0 and 1");
        }

        if (!(Confidence > 0 && Confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Confidence), Confidence, "confidence must be between 0 and 1, exclusive");
        }
    }
}
