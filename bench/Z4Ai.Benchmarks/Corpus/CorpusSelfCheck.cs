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

        CheckCodeBound();
        CheckCodedExponentBound();
        CheckKeepHandWritten();
    }

    // The code bound: entropy of known codes, the scales' bits, the ratio, and the one-to-one check against the data.
    private static void CheckCodeBound()
    {
        // Two rows of two codes, +1 -1 in each, stored as BF16 +-1 and +-2 (scales 1 and 2).
        var codes = new QuantisedCodes([1, -1, 1, -1], 2, [1f, 2f]);
        byte[] stored = new byte[8];
        ushort[] bits = [0x3F80, 0xBF80, 0x4000, 0xC000];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(stored.AsSpan(2 * i), bits[i]);
        }

        CodeBound bound = CodeBound.Of(codes, DType.BF16, stored);
        Expect(Math.Abs(bound.CodeBits - 4) < 1e-12 && Math.Abs(bound.RowCodeBits - 4) < 1e-12 && bound.ScaleBits == 64, "four equiprobable +-1 codes cost four bits, two FP32 scales 64");
        Expect(Math.Abs(bound.Ratio(100, 10) - (100 / 18.5)) < 1e-12, "the bound ratio is file bytes over header + codes + scales");

        // Two codes stored as one value: the data does not determine the codes, so the bound must refuse.
        BinaryPrimitives.WriteUInt16LittleEndian(stored.AsSpan(2), 0x3F80);
        Expect(Throws(() => CodeBound.Of(codes, DType.BF16, stored)), "codes that collide in the stored data are refused");

        // The regenerated codes are the scenario's: the bound accepts its tensor, and Gaussian rows of 4096 scaled to
        // +-127 carry about 7.1 bits per code (the i.i.d. information the int8-row floors cannot get under).
        Scenario scenario = CorpusScenarios.All.Single(s => s.Name == "int8-row-bf16");
        const long bytes = 2L * 4096 * 32;
        Dictionary<string, Tensor> tensors = scenario.Build(bytes, new ScenarioRandom(11));
        CodeBound int8 = CodeBound.Of(CorpusScenarios.Codes(scenario.Quantised!, bytes, new ScenarioRandom(11)), DType.BF16, tensors.Values.Single().Data.Span);
        Expect(int8.Codes == 4096 * 32 && int8.BitsPerCode is > 6.9 and < 7.3, $"per-row INT8 codes of Gaussian rows carry about 7.1 bits each (got {int8.BitsPerCode:0.000})");
    }

    // The like-for-like exponent bound: on dense BF16 every chunk takes an exponent stream, so the coded elements are
    // all the float elements and their bound is the tensor's exponent entropy.
    private static void CheckCodedExponentBound()
    {
        Scenario scenario = CorpusScenarios.All.Single(s => s.Name == "dense-bf16");
        ReadOnlyMemory<byte> data = scenario.Build(2L * 4096 * 16, new ScenarioRandom(5)).Values.Single().Data;
        var bounds = new OrderZeroBounds();
        bounds.Add(DType.BF16, data.Span);
        bounds.AddCoded(DType.BF16, data.Span, 4096, CompressionEffort.Default);
        Expect(bounds.CodedExponentElements == bounds.FloatElements && Math.Abs(bounds.CodedExponentBoundBits - bounds.ExponentBits) < 1e-6,
            "on dense BF16 the coded exponents' bound is the tensor's exponent entropy");
        Expect(bounds.CodedExponentBitsPerElement is > 0 and < 8, "the coded exponent stream costs between 0 and 8 bits per element");
    }

    // A --out run keeps the hand-written sections from "## Model registry" on, and adds nothing when there are none.
    private static void CheckKeepHandWritten()
    {
        const string tail = "## Model registry\n\nhand-written\n\n## Codec speed\n\nmore\n";
        Expect(CorpusReport.KeepHandWritten("# new\n\n## Reading\n\n- x\n", "# old\n\n## Reading\n\n- y\n\n" + tail) == "# new\n\n## Reading\n\n- x\n\n" + tail,
            "the sections from ## Model registry on are kept after the generated part");
        Expect(CorpusReport.KeepHandWritten("# new\n", "# old\n") == "# new\n", "a page without hand-written sections is replaced");
        Expect(CorpusReport.KeepHandWritten("# new\n", null) == "# new\n", "a new page is the generated part");
    }

    private static bool Throws(Action action)
    {
        try
        {
            action();
            return false;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"corpus self-check failed: {what}");
        }
    }
}
