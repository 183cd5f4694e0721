namespace Z4Ai.Tests.Entropy;

/// <summary>Seeded symbol streams shaped like the exponent planes of real weights, plus generic test streams.</summary>
internal static class ExponentStreams
{
    /// <summary>
    /// bf16 exponents of Gaussian weights whose rows have their own scale (σ spread over 3 octaves), as trained
    /// matrices do: within a row the exponents cluster around that row's scale, which is what order-1 and context
    /// models exploit. iid Gaussians (<paramref name="rowScaleOctaves"/> = 0) carry no such structure: there the
    /// order-1 bound equals the order-0 bound and no static order-1 coder can win.
    /// </summary>
    public static byte[] GaussianBf16Exponents(int rows, int columns, double rowScaleOctaves, int seed)
    {
        var random = new Random(seed);
        byte[] symbols = new byte[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            double sigma = 0.02 * Math.Pow(2, (random.NextDouble() - 0.5) * rowScaleOctaves);
            for (int c = 0; c < columns; c++)
            {
                // Box–Muller.
                double u1 = 1 - random.NextDouble();
                double u2 = random.NextDouble();
                double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                symbols[(r * columns) + c] = Bf16Exponent((float)(g * sigma));
            }
        }

        return symbols;
    }

    /// <summary>The biased 8-bit exponent of <paramref name="value"/> rounded to bf16 (round to nearest even).</summary>
    public static byte Bf16Exponent(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
        return (byte)((rounded >> 7) & 0xFF);
    }

    /// <summary>Geometrically distributed symbols (P(k) ∝ (1 − p)^k) capped to the alphabet.</summary>
    public static byte[] Geometric(int length, double p, int alphabetBits, int seed)
    {
        var random = new Random(seed);
        int max = (1 << alphabetBits) - 1;
        byte[] symbols = new byte[length];
        for (int i = 0; i < length; i++)
        {
            int k = (int)Math.Floor(Math.Log(1 - random.NextDouble()) / Math.Log(1 - p));
            symbols[i] = (byte)Math.Min(k, max);
        }

        return symbols;
    }

    /// <summary>Uniform random symbols below 2^<paramref name="alphabetBits"/>.</summary>
    public static byte[] Uniform(int length, int alphabetBits, int seed)
    {
        var random = new Random(seed);
        byte[] symbols = new byte[length];
        random.NextBytes(symbols);
        byte mask = (byte)((1 << alphabetBits) - 1);
        for (int i = 0; i < symbols.Length; i++)
        {
            symbols[i] &= mask;
        }

        return symbols;
    }
}
