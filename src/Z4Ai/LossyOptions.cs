namespace Z4Ai;

/// <summary>How <see cref="LossyDelta.Compress"/> quantizes a fine-tune's difference from its base.</summary>
public sealed class LossyOptions
{
    private int _groupSize;
    private double _outlierFraction = 0.005;
    private double _sparseFraction = 0.05;
    private int _minElements = 4096;

    /// <summary>The tier of every tensor not named by <see cref="TensorTiers"/>; <see cref="LossyTier.Int8"/> by default.</summary>
    public LossyTier Tier { get; set; } = LossyTier.Int8;

    /// <summary>
    /// Elements per scale for <see cref="LossyTier.Int8"/> and <see cref="LossyTier.Int4"/>: 0 (the default) for one
    /// scale per row, otherwise groups of this many consecutive elements within a row.
    /// </summary>
    public int GroupSize
    {
        get => _groupSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _groupSize = value;
        }
    }

    /// <summary>For <see cref="LossyTier.Int4"/>: the fraction of delta values, largest magnitude first, kept exactly (default 0.005).</summary>
    public double OutlierFraction
    {
        get => _outlierFraction;
        set => _outlierFraction = CheckFraction(value);
    }

    /// <summary>For <see cref="LossyTier.Sparse"/>: the fraction of delta values kept (default 0.05).</summary>
    public double SparseFraction
    {
        get => _sparseFraction;
        set => _sparseFraction = CheckFraction(value);
    }

    /// <summary>
    /// For <see cref="LossyTier.Sparse"/>: keep a pseudo-random fraction of the delta values (seeded by
    /// <see cref="Seed"/> and the tensor name) and scale them by 1 / fraction, instead of the largest ones.
    /// </summary>
    public bool DropAndRescale { get; set; }

    /// <summary>The seed of <see cref="DropAndRescale"/>.</summary>
    public ulong Seed { get; set; }

    /// <summary>
    /// For <see cref="LossyTier.OneBit"/> and <see cref="LossyTier.Sparse"/>: refine each row's scale to minimise the
    /// layer's output error using the input statistics of <see cref="Calibration"/> (1-bit: the least-squares scale of
    /// the signs; sparse: a least-squares rescale of the kept values, which needs the full moment matrix). Tensors the
    /// calibration knows nothing about keep the unrefined scales.
    /// </summary>
    public bool RefineScales { get; set; }

    /// <summary>Input statistics for <see cref="RefineScales"/>.</summary>
    public ILossyCalibration? Calibration { get; set; }

    /// <summary>Tensors with fewer elements (and every rank-0 or rank-1 tensor) stay lossless unless an override names them (default 4096).</summary>
    public int MinElements
    {
        get => _minElements;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _minElements = value;
        }
    }

    /// <summary>
    /// Per-tensor overrides, in order: a key is an exact tensor name or a glob (<c>*</c> any run of characters,
    /// <c>?</c> one character). An exact name wins over globs; among globs the first match wins. An override applies
    /// even to small and rank-1 tensors.
    /// </summary>
    public IList<KeyValuePair<string, LossyTier>> TensorTiers { get; } = new List<KeyValuePair<string, LossyTier>>();

    /// <summary>How hard the entropy stages work.</summary>
    public CompressionEffort Effort { get; set; } = CompressionEffort.Default;

    /// <summary>The tier for <paramref name="tensorName"/> and whether an override chose it.</summary>
    public (LossyTier Tier, bool Overridden) ResolveTier(string tensorName)
    {
        ArgumentNullException.ThrowIfNull(tensorName);
        foreach (KeyValuePair<string, LossyTier> pair in TensorTiers)
        {
            if (string.Equals(pair.Key, tensorName, StringComparison.Ordinal))
            {
                return (pair.Value, true);
            }
        }

        foreach (KeyValuePair<string, LossyTier> pair in TensorTiers)
        {
            if (GlobMatches(pair.Key, tensorName))
            {
                return (pair.Value, true);
            }
        }

        return (Tier, false);
    }

    /// <summary>Matches <paramref name="text"/> against a glob with <c>*</c> and <c>?</c> (ordinal, whole string).</summary>
    public static bool GlobMatches(string pattern, string text)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(text);

        // Iterative matcher with one backtrack point: linear in practice, never exponential.
        int p = 0;
        int t = 0;
        int star = -1;
        int mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]) && pattern[p] != '*')
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static double CheckFraction(double value)
    {
        if (!(value >= 0 && value <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "a fraction must be between 0 and 1");
        }

        return value;
    }
}
