namespace Z4Ai.Delta;

/// <summary>How far a reconstructed tensor is from its target.</summary>
/// <param name="RelativeL2">‖r − t‖₂ / ‖t‖₂ (0 when both are zero).</param>
/// <param name="RelativeL2OfDelta">‖r − t‖₂ / ‖t − b‖₂: the fraction of the fine-tune's change that was lost.</param>
/// <param name="MaxAbs">max |r − t|.</param>
internal readonly record struct LossyError(double RelativeL2, double RelativeL2OfDelta, double MaxAbs)
{
    /// <summary>
    /// Measures in double precision, summing in element order. Dtypes without a float view report zero (they are
    /// only ever stored losslessly, and their bytes are verified by SHA-256).
    /// </summary>
    public static LossyError Measure(ReadOnlySpan<byte> target, ReadOnlySpan<byte> reconstructed, ReadOnlySpan<byte> @base, bool hasBase, DType dtype)
    {
        if (!LossyElements.IsSupported(dtype) || target.SequenceEqual(reconstructed))
        {
            return default;
        }

        int n = target.Length / dtype.ElementSize();
        double errorSquares = 0;
        double targetSquares = 0;
        double deltaSquares = 0;
        double maxAbs = 0;
        for (int i = 0; i < n; i++)
        {
            double t = LossyElements.Read(target, dtype, i);
            double r = LossyElements.Read(reconstructed, dtype, i);
            double b = hasBase ? LossyElements.Read(@base, dtype, i) : 0;
            double e = r - t;
            errorSquares += e * e;
            targetSquares += t * t;
            deltaSquares += (t - b) * (t - b);
            maxAbs = Math.Max(maxAbs, Math.Abs(e));
        }

        return new LossyError(Ratio(errorSquares, targetSquares), Ratio(errorSquares, deltaSquares), maxAbs);
    }

    private static double Ratio(double errorSquares, double referenceSquares) =>
        referenceSquares > 0 ? Math.Sqrt(errorSquares / referenceSquares) : errorSquares > 0 ? double.PositiveInfinity : 0;
}
