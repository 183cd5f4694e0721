using NUnit.Framework;
using Z4Ai.Certification;

namespace Z4Ai.Tests.Certification;

/// <summary>The exact McNemar test and its interval, against values computed exactly with rational arithmetic.</summary>
public class McNemarTests
{
    // 2 · Σ_{i ≤ min(b,c)} C(n, i) / 2^n, computed exactly (Python fractions) and rounded to double; the log-space
    // sum agrees to about 1e-13 relative.
    [TestCase(0, 0, 1.0)]
    [TestCase(1, 1, 1.0)]
    [TestCase(1, 0, 1.0)]
    [TestCase(0, 5, 0.0625)]
    [TestCase(0, 6, 0.03125)]
    [TestCase(2, 8, 0.109375)]
    [TestCase(3, 10, 0.09228515625)]
    [TestCase(30, 50, 0.03299261842647618)]
    [TestCase(25, 12, 0.04703102743951604)]
    [TestCase(100, 130, 0.055613577781392386)]
    public void ExactPValue_KnownCounts_MatchesExactArithmetic(int b, int c, double expected) =>
        Assert.That(McNemarTest.ExactPValue(b, c), Is.EqualTo(expected).Within(1e-9).Percent);

    [Test]
    public void ExactPValue_IsSymmetricAndNeverAboveOne()
    {
        for (int b = 0; b < 30; b++)
        {
            for (int c = 0; c < 30; c++)
            {
                double p = McNemarTest.ExactPValue(b, c);
                Assert.That(p, Is.EqualTo(McNemarTest.ExactPValue(c, b)));
                Assert.That(p, Is.InRange(0.0, 1.0));
            }
        }
    }

    [Test]
    public void ExactPValue_LargeCounts_StaysFiniteAndTiny()
    {
        double p = McNemarTest.ExactPValue(0, 1400);
        Assert.That(p, Is.GreaterThanOrEqualTo(0).And.LessThan(1e-300));
        Assert.That(McNemarTest.ExactPValue(5000, 5000), Is.EqualTo(1.0));
    }

    [Test]
    public void ChangeInterval_NoDiscordantPairs_IsZero() =>
        Assert.That(McNemarTest.ChangeInterval(0, 0, 1000, 0.95), Is.EqualTo((0.0, 0.0)));

    [Test]
    public void ChangeInterval_AllLost_MatchesClopperPearson()
    {
        // c = 0 of n = 10: π ∈ [0, 1 − 0.025^(1/10)] = [0, 0.30849710...], change = 2π − 1 with total = n.
        (double low, double high) = McNemarTest.ChangeInterval(10, 0, 10, 0.95);
        Assert.That(low, Is.EqualTo(-1.0).Within(1e-12));
        Assert.That(high, Is.EqualTo((2 * (1 - Math.Pow(0.025, 0.1))) - 1).Within(1e-9));
    }

    [Test]
    public void ChangeInterval_Balanced_IsSymmetricAndScaledByTheDiscordantShare()
    {
        (double low, double high) = McNemarTest.ChangeInterval(20, 20, 4000, 0.95);
        Assert.That(low, Is.EqualTo(-high).Within(1e-12));
        Assert.That(high, Is.GreaterThan(0).And.LessThan(40.0 / 4000));
        (double low99, double high99) = McNemarTest.ChangeInterval(20, 20, 4000, 0.99);
        Assert.That(high99, Is.GreaterThan(high));
        Assert.That(low99, Is.LessThan(low));
    }

    [Test]
    public void BinomialCdf_KnownValues()
    {
        Assert.That(McNemarTest.BinomialCdf(2, 10, 0.5), Is.EqualTo(56.0 / 1024).Within(1e-15));
        Assert.That(McNemarTest.BinomialCdf(0, 3, 0.2), Is.EqualTo(0.512).Within(1e-15));
        Assert.That(McNemarTest.BinomialCdf(-1, 3, 0.2), Is.Zero);
        Assert.That(McNemarTest.BinomialCdf(3, 3, 0.2), Is.EqualTo(1.0));
    }
}
