using NUnit.Framework;
using Z4Ai.Entropy;
using static Z4Ai.Tests.Entropy.EntropyTestHelpers;

namespace Z4Ai.Tests.Entropy;

/// <summary>
/// Golden payloads: if one of these changes, the file format changed. Never update a vector to make a test pass;
/// a deliberate format change needs a new method id (or a format version) so old files still decode.
/// </summary>
public class EntropyGoldenTests
{
    // 48 exponent-like symbols, fixed by formula so the input itself cannot drift.
    private static byte[] Input() => [.. Enumerable.Range(0, 48).Select(i => (byte)(120 + ((i * 7 + (i / 5)) % 5) - ((i % 11) == 0 ? 3 : 0)))];

    // 600 symbols of a fixed Markov chain (LCG-driven), strongly order-1: its payload carries context tables.
    private static byte[] MarkovInput()
    {
        byte[] x = new byte[600];
        uint state = 12345;
        int previous = 120;
        for (int i = 0; i < x.Length; i++)
        {
            state = (state * 1103515245) + 12345;
            int r = (int)((state >> 16) % 4);
            previous = previous >= 124 ? 118 + r : previous + 1 + (r & 1);
            x[i] = (byte)previous;
        }

        return x;
    }

    private static IEnumerable<TestCaseData> Vectors()
    {
        yield return new TestCaseData((int)EntropyMethod.RansOrder0, 8, 0, "5577B0C4A5924B40010037956525A14801009F7DB6E38D970CD3806A001F806B80AF");
        yield return new TestCaseData((int)EntropyMethod.RansOrder1, 8, 0, "56DDC112974A024B40010037956525A14801009F7DB6E38D970CD3806A001F806B80AF");
        yield return new TestCaseData((int)EntropyMethod.ContextMixing, 8, 8, "791EDC31BE36346CDC835773640AC90F970BA1CD00");
    }

    [TestCaseSource(nameof(Vectors))]
    public void Encode_FixedInput_MatchesGoldenBytes(int methodId, int alphabetBits, int rowLength, string expectedHex)
    {
        var method = (EntropyMethod)methodId;
        byte[] input = Input();
        byte[] encoded = Encode(input, method, alphabetBits, rowLength);
        Assert.That(Convert.ToHexString(encoded), Is.EqualTo(expectedHex));
        Assert.That(Decode(Convert.FromHexString(expectedHex), input.Length, method, alphabetBits, rowLength), Is.EqualTo(input));
    }

    [Test]
    public void Encode_MarkovInputOrder1_MatchesGoldenBytesWithContextTables()
    {
        const string Expected =
            "ED0EFEC75D80022F409117A0D00B50EC0528F80224760392C46E4092E40DF8A6E10B02D7C60602B6891302BD2E3A08D0D584910D791EEE80A2579D126C6C0159D014C34F56153F43720E608B88EC95C7F2789B7598A3FA44CA4678A384F7740CA1369024482F9C8062F56AC264FDEE06FE22B04B39CBF2B0B1144DACB65EC4001800B400A0007C";
        byte[] input = MarkovInput();
        byte[] encoded = Encode(input, EntropyMethod.RansOrder1);
        Assert.That(Convert.ToHexString(encoded), Is.EqualTo(Expected));
        Assert.That(encoded, Has.Length.LessThan(Encode(input, EntropyMethod.RansOrder0).Length * 2 / 3), "own context tables pay off");
        Assert.That(Decode(Convert.FromHexString(Expected), input.Length, EntropyMethod.RansOrder1), Is.EqualTo(input));
    }
}
