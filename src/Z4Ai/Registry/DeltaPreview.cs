using System.Buffers;
using Z4Ai.Delta;

namespace Z4Ai.Registry;

/// <summary>
/// A cheap, deterministic guess at how large a delta of a tensor against a reference would be, so that below
/// <see cref="CompressionEffort.Max"/> only the more promising of the parent and the base is actually encoded: the
/// order-0 entropy of the byte planes of the XOR and of the Subtract transform (the smaller of the two), as the delta
/// encoder itself estimates per chunk. Large tensors are sampled in evenly spaced windows, so the preview costs a
/// small fraction of one encoding and a window of memory. Integer arithmetic throughout, so the choice is the same on
/// every machine.
/// </summary>
internal static class DeltaPreview
{
    /// <summary>Bytes per sampled window (a multiple of every lane width).</summary>
    public const int WindowLength = 128 << 10;

    /// <summary>Windows sampled from a tensor longer than <see cref="WindowLength"/> times this.</summary>
    public const int Windows = 32;

    /// <summary>Estimated delta size in fixed-point bits (see <see cref="DeltaEstimator.FractionBits"/>).</summary>
    public static long EstimateBits(ReadOnlySpan<byte> current, ReadOnlySpan<byte> reference, DType dtype)
    {
        int overlap = Math.Min(current.Length, reference.Length);
        long tail = (long)(current.Length - overlap) * 8 << DeltaEstimator.FractionBits;
        if (overlap == 0)
        {
            return tail;
        }

        int planeSize = Math.Max(1, dtype.ElementSize());
        bool subtract = DeltaLanes.TryGetSubtractLanes(dtype, out int laneSize, out bool ordered);
        bool whole = (long)overlap <= (long)WindowLength * Windows;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(whole ? overlap : WindowLength);
        try
        {
            if (whole)
            {
                return Window(current[..overlap], reference[..overlap], buffer, planeSize, subtract, laneSize, ordered) + tail;
            }

            // Evenly spaced windows starting on lane boundaries, scaled up to the whole overlap.
            long sampled = 0;
            long stride = (overlap - WindowLength) / (Windows - 1) / 8 * 8;
            for (int i = 0; i < Windows; i++)
            {
                int start = (int)(i * stride);
                sampled += Window(current.Slice(start, WindowLength), reference.Slice(start, WindowLength), buffer, planeSize, subtract, laneSize, ordered);
            }

            return (long)((Int128)sampled * overlap / ((long)WindowLength * Windows)) + tail;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static long Window(ReadOnlySpan<byte> current, ReadOnlySpan<byte> reference, byte[] buffer, int planeSize, bool subtract, int laneSize, bool ordered)
    {
        Span<byte> transformed = buffer.AsSpan(0, current.Length);
        DeltaKernels.Xor(current, reference, transformed);
        long best = DeltaEstimator.EstimateBits(transformed, planeSize);
        if (subtract)
        {
            int lanes = current.Length - (current.Length % laneSize);
            DeltaKernels.Subtract(current[..lanes], reference[..lanes], transformed[..lanes], laneSize, ordered);
            best = Math.Min(best, DeltaEstimator.EstimateBits(transformed, planeSize));
        }

        return best;
    }
}
