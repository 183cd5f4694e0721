using System.Buffers.Binary;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>
/// Checks of the runner's own helpers, run before anything is measured (they take milliseconds): a wrong entropy
/// bound or a generator that does not make what its scenario claims would publish wrong tables, so the run stops
/// instead.
/// </summary>
internal static class CorpusSelfCheck
{
    public static void Run()
    {
        // Order-0 entropy of known histograms.
        Expect(OrderZeroBounds.Bits([5, 0, 0]) == 0, "a constant stream has no entropy");
        Expect(Math.Abs(OrderZeroBounds.Bits([1, 1]) - 2) < 1e-12, "two equiprobable symbols cost one bit each");
        long[] uniform = Enumerable.Repeat(3L, 256).ToArray();
        Expect(Math.Abs(OrderZeroBounds.Bits(uniform) - (8 * 768)) < 1e-6, "a uniform byte stream costs eight bits a byte");

        // Bounds: BF16 elements 0x3F80 and 0xBF80 (+1 and -1) alternate: one bit of sign, nothing else.
        byte[] signs = new byte[4 * 1000];
        for (int i = 0; i < 2000; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(signs.AsSpan(2 * i), i % 2 == 0 ? (ushort)0x3F80 : (ushort)0xBF80);
        }

        var bounds = new OrderZeroBounds();
        bounds.Add(DType.BF16, signs);
        Expect(Math.Abs(bounds.FieldBits - 2000) < 1e-6 && bounds.ExponentBits == 0, "±1 in BF16 costs exactly the sign bit");
        Expect(Math.Abs(bounds.PlaneBits - 2000) < 1e-6, "±1 in BF16 varies only the high byte plane, by one bit");

        // BF16 rounding is to nearest, ties to even.
        Expect(CorpusScenarios.Bf16Bits(1f) == 0x3F80, "1.0 is 0x3F80 in BF16");
        Expect(CorpusScenarios.Bf16Bits(1f + MathF.Pow(2, -8)) == 0x3F80, "a tie rounds to the even mantissa");
        Expect(CorpusScenarios.Bf16Bits(1f + (3 * MathF.Pow(2, -8))) == 0x3F82, "a tie rounds up to the even mantissa");

        // The generator is deterministic and its Gaussians have the right moments.
        var a = new ScenarioRandom(7);
        var b = new ScenarioRandom(7);
        Expect(Enumerable.Range(0, 100).All(_ => a.NextUInt64() == b.NextUInt64()), "the same seed gives the same sequence");
        double sum = 0, squares = 0;
        const int n = 200_000;
        for (int i = 0; i < n; i++)
        {
            double g = a.NextGaussian();
            sum += g;
            squares += g * g;
        }

        Expect(Math.Abs(sum / n) < 0.01 && Math.Abs((squares / n) - 1) < 0.02, "Gaussian deviates have mean 0 and variance 1");

        // Quantised scenarios hold at most 2 qmax + 1 distinct values per scale.
        int columns = 256;
        float[] weights = CorpusScenarios.Weights(columns * 16, columns, new ScenarioRandom(3));
        Expect(CorpusScenarios.Dequantise(weights, columns, 7, perRow: false).Distinct().Count() <= 15, "per-tensor INT4 has at most 15 values");
        float[] perRow = CorpusScenarios.Dequantise(weights, columns, 7, perRow: true);
        Expect(
            Enumerable.Range(0, 16).All(r => perRow.AsSpan(r * columns, columns).ToArray().Distinct().Count() <= 15)
                && perRow.Distinct().Count() > 15,
            "per-row INT4 has at most 15 values per row and more across rows");
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"corpus self-check failed: {what}");
        }
    }
}
