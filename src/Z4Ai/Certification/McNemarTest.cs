namespace Z4Ai.Certification;

/// <summary>
/// The exact McNemar test on paired correctness (a binomial test on the discordant pairs) and an exact conditional
/// confidence interval for the change in accuracy. Double arithmetic in a fixed order, no library special functions,
/// so the same counts give the same bits everywhere.
/// </summary>
internal static class McNemarTest
{
    /// <summary>
    /// The two-sided exact p-value for <paramref name="b"/> pairs right only before and <paramref name="c"/> right only
    /// after: <c>min(1, 2·P(X ≤ min(b, c)))</c> with X ~ Binomial(b + c, ½); 1 when there are no discordant pairs.
    /// </summary>
    public static double ExactPValue(int b, int c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        int n = b + c;
        if (n == 0)
        {
            return 1.0;
        }

        return Math.Min(1.0, 2.0 * BinomialCdf(Math.Min(b, c), n, 0.5));
    }

    /// <summary>
    /// A confidence interval for the accuracy change <c>(c − b) / total</c>, in the same units as a fraction:
    /// conditional on the n = b + c discordant pairs, c ~ Binomial(n, π) and the change is <c>(n / total)(2π − 1)</c>;
    /// the Clopper–Pearson interval for π is mapped through that line. No discordant pairs give [0, 0].
    /// </summary>
    public static (double Low, double High) ChangeInterval(int b, int c, int total, double confidence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        ArgumentOutOfRangeException.ThrowIfLessThan(total, b + c);
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be between 0 and 1");
        }

        int n = b + c;
        if (n == 0)
        {
            return (0, 0);
        }

        double alpha = 1 - confidence;
        double lower = c == 0 ? 0 : Solve(p => 1 - BinomialCdf(c - 1, n, p), alpha / 2, increasing: true);
        double upper = c == n ? 1 : Solve(p => BinomialCdf(c, n, p), alpha / 2, increasing: false);
        double weight = (double)n / total;
        return (weight * ((2 * lower) - 1), weight * ((2 * upper) - 1));
    }

    /// <summary>P(X ≤ x) for X ~ Binomial(n, p), summing the terms from 0 to x in log space.</summary>
    public static double BinomialCdf(int x, int n, double p)
    {
        if (x < 0)
        {
            return 0;
        }

        if (x >= n || p <= 0)
        {
            return 1;
        }

        if (p >= 1)
        {
            return 0;
        }

        double logP = Math.Log(p);
        double logQ = Math.Log(1 - p);
        double logChoose = 0;
        double sum = 0;
        for (int i = 0; i <= x; i++)
        {
            if (i > 0)
            {
                logChoose += Math.Log(n - i + 1) - Math.Log(i);
            }

            sum += Math.Exp(logChoose + (i * logP) + ((n - i) * logQ));
        }

        return Math.Min(1, sum);
    }

    // Bisection on [0, 1] for f(p) = target, f monotone; 100 halvings reach double resolution.
    private static double Solve(Func<double, double> f, double target, bool increasing)
    {
        double lo = 0;
        double hi = 1;
        for (int i = 0; i < 100; i++)
        {
            double mid = (lo + hi) / 2;
            bool below = f(mid) < target;
            if (below == increasing)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return (lo + hi) / 2;
    }
}
