using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Archival;

namespace Z4Ai.Tests.Archival;

public class ArithmeticCoderTests
{
    private static (byte[] Payload, int[] Bits, int[] Probabilities) Encode(int count, int seed, Func<Random, int> probability)
    {
        var random = new Random(seed);
        int[] bits = new int[count];
        int[] ps = new int[count];
        var encoder = new ArithmeticEncoder(16);
        for (int i = 0; i < count; i++)
        {
            ps[i] = probability(random);
            bits[i] = random.Next(4096) < ps[i] ? 1 : 0;
            encoder.Encode(bits[i], ps[i]);
        }

        encoder.Flush();
        return (encoder.Written.ToArray(), bits, ps);
    }

    private static int[] Decode(byte[] payload, int[] ps, out bool exact)
    {
        var decoder = new ArithmeticDecoder(payload);
        int[] bits = new int[ps.Length];
        for (int i = 0; i < ps.Length; i++)
        {
            bits[i] = decoder.Decode(ps[i]);
        }

        exact = decoder.EndsExactly;
        return bits;
    }

    [Test]
    public void EncodeDecode_RandomBitsAndProbabilities_RoundTripsAndEndsExactly()
    {
        Prop.ForAll(
            Gen.Choose(0, 3000).Zip(Gen.Choose(0, int.MaxValue)).ToArbitrary(),
            t =>
            {
                (byte[] payload, int[] bits, int[] ps) = Encode(t.Item1, t.Item2, r => 1 + r.Next(4095));
                int[] back = Decode(payload, ps, out bool exact);
                return back.AsSpan().SequenceEqual(bits) && exact;
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [TestCase(1)]
    [TestCase(4095)]
    [TestCase(2048)]
    public void EncodeDecode_ExtremeProbabilities_RoundTrips(int p)
    {
        (byte[] payload, int[] bits, int[] ps) = Encode(20000, p, _ => p);
        Assert.That(Decode(payload, ps, out bool exact), Is.EqualTo(bits));
        Assert.That(exact, Is.True);
    }

    [Test]
    public void Encode_ConfidentCorrectPredictions_CostAlmostNothing()
    {
        var encoder = new ArithmeticEncoder(16);
        for (int i = 0; i < 80000; i++)
        {
            encoder.Encode(1, 4095);
        }

        encoder.Flush();
        Assert.That(encoder.Length, Is.LessThan(80000 * 0.0004 / 8 * 1.5 + 8));
    }

    [Test]
    public void Decode_TruncatedPayload_IsNeverAccepted()
    {
        // Cutting the payload either changes the decoded bits or leaves the decoder at the wrong end position.
        for (int seed = 0; seed < 20; seed++)
        {
            (byte[] payload, int[] bits, int[] ps) = Encode(3000, seed, r => 1 + r.Next(4095));
            for (int cut = 1; cut <= Math.Min(3, payload.Length); cut++)
            {
                int[] back = Decode(payload[..^cut], ps, out bool exact);
                Assert.That(exact && back.AsSpan().SequenceEqual(bits), Is.False, $"seed {seed}, cut {cut}");
            }
        }
    }
}
