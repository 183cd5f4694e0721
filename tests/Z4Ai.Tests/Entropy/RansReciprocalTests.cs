using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

/// <summary>The encoder's division by reciprocal multiplication must equal integer division exactly, or the frames
/// it writes would change.</summary>
public class RansReciprocalTests
{
    [Test]
    public void Divide_EveryTableFrequencyAtTheStateBounds_EqualsIntegerDivision()
    {
        uint[] edges = [0, 1, 2, 0xFFFF, 0x10000, 0x10001, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];
        for (uint f = 1; f <= FrequencyTable.ProbScale; f++)
        {
            ulong reciprocal = RansCodec.Reciprocal(f);
            foreach (uint value in edges.Concat([f - 1, f, f + 1, (f << 20) - 1, (f << 20) - f, ((f << 20) / 3) + 7]))
            {
                Assert.That(RansCodec.Divide(value, f, reciprocal), Is.EqualTo(value / f), $"{value} / {f}");
            }
        }
    }

    [Test]
    public void Divide_AnyThirtyTwoBitValueAndDivisor_EqualsIntegerDivision()
    {
        Arbitrary<uint> any = Gen.Choose(int.MinValue, int.MaxValue).Select(i => unchecked((uint)i)).ToArbitrary();
        Prop.ForAll(any, any, (value, divisor) =>
        {
            uint d = Math.Max(1u, divisor);
            return RansCodec.Divide(value, d, RansCodec.Reciprocal(d)) == value / d;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2000));
    }
}
