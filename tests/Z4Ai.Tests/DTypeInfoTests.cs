using NUnit.Framework;

namespace Z4Ai.Tests;

public class DTypeInfoTests
{
    [Test]
    public void GetName_RoundTripsThroughTryParse_ForEveryDType()
    {
        foreach (DType d in Enum.GetValues<DType>())
        {
            Assert.That(DTypeInfo.TryParse(d.GetName(), out DType parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(d));
        }

        Assert.That(Enum.GetValues<DType>(), Has.Length.EqualTo(DTypeInfo.Count));
    }

    [TestCase("f32")]
    [TestCase("F8_E4M3FN")]
    [TestCase("I4")]
    [TestCase("")]
    public void TryParse_RejectsNamesOutsideTheSpec(string name) =>
        Assert.That(DTypeInfo.TryParse(name, out _), Is.False);

    [TestCase(DType.F4, 4)]
    [TestCase(DType.F6_E3M2, 6)]
    [TestCase(DType.BF16, 16)]
    [TestCase(DType.C64, 64)]
    public void BitSize_MatchesTheReference(DType dtype, int bits) => Assert.That(dtype.BitSize(), Is.EqualTo(bits));
}
