namespace Z4Ai.Delta;

/// <summary>How the subtract delta reads a dtype's bytes: lane width and whether lanes are sign-magnitude floats.</summary>
internal static class DeltaLanes
{
    /// <summary>
    /// Gets the subtract lanes of <paramref name="dtype"/>. Floats (F16, BF16, F32, F64, the sign-carrying FP8s,
    /// and C64 as pairs of F32) are ordered; integers (and the unsigned F8_E8M0 exponent) are plain. BOOL and the
    /// sub-byte packed floats have no meaningful lanes, so only XOR applies to them.
    /// </summary>
    public static bool TryGetSubtractLanes(DType dtype, out int laneSize, out bool ordered)
    {
        (laneSize, ordered) = dtype switch
        {
            DType.U8 or DType.I8 or DType.F8_E8M0 => (1, false),
            DType.F8_E5M2 or DType.F8_E4M3 or DType.F8_E4M3FNUZ or DType.F8_E5M2FNUZ => (1, true),
            DType.I16 or DType.U16 => (2, false),
            DType.F16 or DType.BF16 => (2, true),
            DType.I32 or DType.U32 => (4, false),
            DType.F32 or DType.C64 => (4, true),
            DType.I64 or DType.U64 => (8, false),
            DType.F64 => (8, true),
            _ => (0, false),
        };
        return laneSize != 0;
    }
}
