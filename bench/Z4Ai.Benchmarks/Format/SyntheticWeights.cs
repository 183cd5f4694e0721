namespace Z4Ai.Benchmarks.Format;

/// <summary>Deterministic, realistic bf16 weight bytes: Gaussian rows with a per-row log-normal scale.</summary>
internal static class SyntheticWeights
{
    public static void FillBf16(Span<byte> destination, ulong seed, int rowLength = 4096, float std = 0.02f)
    {
        ulong state = seed;
        float rowStd = std;
        for (int i = 0; i + 1 < destination.Length; i += 2)
        {
            int element = i / 2;
            if (element % rowLength == 0)
            {
                rowStd = std * (float)Math.Exp(Gaussian(ref state) * 0.3);
            }

            float value = (float)Gaussian(ref state) * rowStd;
            uint bits = (uint)BitConverter.SingleToInt32Bits(value);
            ushort bf16 = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
            destination[i] = (byte)bf16;
            destination[i + 1] = (byte)(bf16 >> 8);
        }
    }

    private static double Gaussian(ref ulong state)
    {
        double u1 = 1.0 - Next(ref state);
        double u2 = Next(ref state);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static double Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return ((z ^ (z >> 31)) >> 11) * (1.0 / (1UL << 53));
    }
}
