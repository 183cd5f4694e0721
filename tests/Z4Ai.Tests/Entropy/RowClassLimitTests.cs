using System.Buffers;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

/// <summary>The class limit a row-class plan is fitted under, and the profiles that set it.</summary>
public class RowClassLimitTests
{
    // Zigzagged steps in rows of 128, each row with one of 16 spreads: unlimited, the fit takes many classes.
    private static byte[] SixteenSpreads(int rows)
    {
        var random = new Random(11);
        byte[] symbols = new byte[rows * 128];
        double spread = 1;
        for (int i = 0; i < symbols.Length; i++)
        {
            if (i % 128 == 0)
            {
                spread = 0.5 + (random.Next(16) * 0.6);
            }

            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            int step = (int)Math.Round(g * spread);
            symbols[i] = (byte)Math.Clamp((step << 1) ^ (step >> 31), 0, 255);
        }

        return symbols;
    }

    [TestCase(2)]
    [TestCase(4)]
    [TestCase(8)]
    public void Build_WithAClassLimit_FitsNoMoreClassesAndStillRoundTrips(int limit)
    {
        byte[] symbols = SixteenSpreads(4096);
        RowClassModel unlimited = RowClassModel.Build(symbols, 8, 128)!;
        RowClassModel limited = RowClassModel.Build(symbols, 8, 128, limit)!;
        Assert.That(unlimited.ClassCount, Is.GreaterThan(limit), "the stream wants more classes than the limit");
        Assert.That(limited.ClassCount, Is.LessThanOrEqualTo(limit));
        Assert.That(limited.EstimatedBytes, Is.GreaterThanOrEqualTo(unlimited.EstimatedBytes));

        var writer = new ArrayBufferWriter<byte>();
        RowClassCodec.Encode(symbols, limited, writer);
        byte[] decoded = new byte[symbols.Length];
        RowClassCodec.Decode(writer.WrittenSpan, 8, 128, decoded);
        Assert.That(decoded, Is.EqualTo(symbols));
    }

    [Test]
    public void Build_LimitBelowTwoClasses_ThrowsArgumentException() =>
        Assert.That(() => RowClassModel.Build(SixteenSpreads(4), 8, 128, 1), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [Test]
    public void Profiles_FastDecodeDefault_CapsRowClassesOthersDoNot()
    {
        Assert.That(EffortProfile.For(CompressionEffort.Default).MaxRowClasses, Is.EqualTo(RowClassModel.MaxClasses));
        Assert.That(EffortProfile.For(CompressionEffort.Max).MaxRowClasses, Is.EqualTo(RowClassModel.MaxClasses));
        Assert.That(EffortProfile.ForFastDecode(CompressionEffort.Default).MaxRowClasses, Is.EqualTo(EffortProfile.FastDecodeRowClasses));
        Assert.That(EffortProfile.FastDecodeRowClasses, Is.LessThan(RowClassModel.MaxClasses));
    }
}
