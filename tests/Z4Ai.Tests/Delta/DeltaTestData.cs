using System.Buffers.Binary;

namespace Z4Ai.Tests.Delta;

/// <summary>Seeded synthetic weights and checkpoint steps for the delta tests.</summary>
internal static class DeltaTestData
{
    public static float NextGaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() keeps the logarithm's argument in (0, 1].
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    public static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>A BF16 buffer of <paramref name="count"/> Gaussian weights with standard deviation <paramref name="std"/>.</summary>
    public static byte[] GaussianBf16(int count, float std, int seed)
    {
        var random = new Random(seed);
        byte[] bytes = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), ToBf16(NextGaussian(random) * std));
        }

        return bytes;
    }

    /// <summary>
    /// A copy of a BF16 buffer in which a <paramref name="fraction"/> of the elements moved by one to three
    /// representable steps up or down (a sparse small update).
    /// </summary>
    public static byte[] StepBf16(byte[] reference, double fraction, int seed)
    {
        var random = new Random(seed);
        byte[] current = (byte[])reference.Clone();
        int count = current.Length / 2;
        for (int i = 0; i < count; i++)
        {
            if (random.NextDouble() < fraction)
            {
                ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(i * 2));
                int step = random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1);
                BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i * 2), (ushort)(bits + step));
            }
        }

        return current;
    }

    /// <summary>
    /// The z4ai generator: FP32 weights <c>N(0, std)</c> rounded to BF16 as the reference; the target adds
    /// <c>N(0, 1) * 1e-4</c> to a <paramref name="fraction"/> of the FP32 weights, then rounds to BF16 (so the steps
    /// depend on each weight's exponent).
    /// </summary>
    public static (byte[] Reference, byte[] Current) NudgedBf16(int count, float std, double fraction, int seed)
    {
        var random = new Random(seed);
        byte[] reference = new byte[count * 2];
        byte[] current = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            float weight = NextGaussian(random) * std;
            float nudged = random.NextDouble() < fraction ? weight + (NextGaussian(random) * 1e-4f) : weight;
            BinaryPrimitives.WriteUInt16LittleEndian(reference.AsSpan(i * 2), ToBf16(weight));
            BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i * 2), ToBf16(nudged));
        }

        return (reference, current);
    }

    /// <summary>
    /// Random reference lanes and a copy where each element changes with probability <paramref name="density"/>: a
    /// small step mostly; with <paramref name="wide"/>, a third of the changes take any new value (the largest steps,
    /// sign flips).
    /// </summary>
    public static (byte[] Reference, byte[] Current) RandomLaneChanges(int laneSize, int elements, double density, bool wide, int seed)
    {
        var random = new Random(seed);
        byte[] reference = new byte[elements * laneSize];
        random.NextBytes(reference);
        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < elements; i++)
        {
            if (random.NextDouble() < density)
            {
                // Small steps mostly; with `wide`, any new value (including the largest steps and sign flips).
                if (wide && random.Next(3) == 0)
                {
                    random.NextBytes(current.AsSpan(i * laneSize, laneSize));
                }
                else
                {
                    current[i * laneSize] ^= (byte)random.Next(1, 8);
                }
            }
        }

        return (reference, current);
    }
}
