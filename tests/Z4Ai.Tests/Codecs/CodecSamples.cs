using System.Buffers;
using System.Buffers.Binary;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// Weight-like buffers for codec tests, all from a seed: Gaussian weights with per-row scales (rows of
/// <see cref="Columns"/>), and what training and deployment make of them (rounding to BF16/F16, pruning, fake
/// quantisation to INT8/INT4 codes, sparse XOR updates), plus integer and mask tensors.
/// </summary>
internal static class CodecSamples
{
    /// <summary>Elements per row of every generated matrix.</summary>
    public const int Columns = 256;

    /// <summary>Encodes one chunk at an effort and returns the frame.</summary>
    public static byte[] Encode(byte[] raw, DType dtype, CompressionEffort effort = CompressionEffort.Default, int rowLength = Columns)
    {
        var writer = new ArrayBufferWriter<byte>(raw.Length + 64);
        TensorCodec.Encode(raw, dtype, effort, writer, rowLength);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a frame of <paramref name="rawLength"/> bytes.</summary>
    public static byte[] Decode(byte[] frame, int rawLength)
    {
        byte[] back = new byte[rawLength];
        TensorCodec.Decode(frame, back);
        return back;
    }

    /// <summary>The recipe description of a frame.</summary>
    public static string Recipe(byte[] frame) => RecipeInspector.Describe(frame);

    public static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Gaussian weights, each row of <see cref="Columns"/> with its own log-normal scale around 0.02.</summary>
    public static float[] Weights(int count, Random rng)
    {
        float[] w = new float[count];
        double scale = 0.02;
        for (int i = 0; i < count; i++)
        {
            if (i % Columns == 0)
            {
                scale = 0.02 * Math.Exp(0.35 * Gaussian(rng));
            }

            w[i] = (float)(scale * Gaussian(rng));
        }

        return w;
    }

    public static ushort Bf16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    public static byte[] Bf16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), Bf16Bits(values[i]));
        }

        return bytes;
    }

    public static byte[] F16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
        }

        return bytes;
    }

    public static byte[] F32(float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    public static byte[] F64(float[] values)
    {
        byte[] bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), values[i]);
        }

        return bytes;
    }

    /// <summary>Floats rounded through BF16 (F32 holding bf16 values: the low 16 bits are zero).</summary>
    public static float[] ThroughBf16(float[] w)
    {
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = BitConverter.UInt32BitsToSingle((uint)Bf16Bits(w[i]) << 16);
        }

        return w;
    }

    /// <summary>Floats rounded through F16.</summary>
    public static float[] ThroughHalf(float[] w)
    {
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)(Half)w[i];
        }

        return w;
    }

    /// <summary>Each element set to +0 with probability 1 / <paramref name="oneIn"/>.</summary>
    public static float[] Prune(float[] w, Random rng, int oneIn)
    {
        for (int i = 0; i < w.Length; i++)
        {
            if (rng.Next(oneIn) == 0)
            {
                w[i] = 0;
            }
        }

        return w;
    }

    /// <summary>Symmetric fake quantisation, <c>round(w / s) * s</c> with one scale per tensor or per row (which
    /// leaves -0.0 where small negative weights round to zero).</summary>
    public static float[] Dequantise(float[] w, int qmax, bool perRow)
    {
        float tensorMax = w.Length == 0 ? 0 : w.Max(Math.Abs);
        for (int row = 0; row * Columns < w.Length; row++)
        {
            Span<float> values = w.AsSpan(row * Columns, Math.Min(Columns, w.Length - (row * Columns)));
            float max = tensorMax;
            if (perRow)
            {
                max = 0;
                foreach (float v in values)
                {
                    max = Math.Max(max, Math.Abs(v));
                }
            }

            float scale = max == 0 ? 1f : max / qmax;
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = Math.Clamp(MathF.Round(values[i] / scale, MidpointRounding.ToEven), -qmax, qmax) * scale;
            }
        }

        return w;
    }

    /// <summary>
    /// Rows of <paramref name="columns"/> drawn from a small lookup table of their own: a few negative and positive
    /// entries of random magnitude (so no scale makes them integer multiples) around a 0.0 that starts each row,
    /// most elements on the entries next to zero.
    /// Zero's place in the sorted table moves with the row's count of negative entries, which a group shift aligns.
    /// </summary>
    public static float[] CodebookRows(int count, Random rng, int columns = Columns)
    {
        float[] w = new float[count];
        Span<float> entries = stackalloc float[9];
        Span<float> magnitudes = stackalloc float[4];
        int negatives = 0;
        int positives = 0;
        for (int i = 0; i < count; i++)
        {
            if (i % columns == 0)
            {
                negatives = 1 + rng.Next(4);
                positives = 1 + rng.Next(4);
                // Magnitudes over several octaves, so rows share few values (no global codebook of 256 covers them).
                for (int side = -1; side <= 1; side += 2)
                {
                    for (int k = 0; k < 4; k++)
                    {
                        magnitudes[k] = (float)Math.Exp(-6 * rng.NextDouble());
                    }

                    magnitudes.Sort();
                    for (int k = 1; k <= 4; k++)
                    {
                        entries[4 + (side * k)] = side * magnitudes[k - 1];
                    }
                }

                entries[4] = 0f;
            }

            // One zero per row, at its start (too few zeros for a zero mask); the rest cluster around it.
            int offset = Math.Clamp((int)Math.Round(1.2 * Gaussian(rng)), -negatives, positives);
            offset = i % columns == 0 ? 0 : offset != 0 ? offset : rng.Next(2) == 0 ? -1 : 1;
            w[i] = entries[4 + offset];
        }

        return w;
    }

    /// <summary>The XOR of BF16 weights before and after an update that changed one element in <paramref name="oneIn"/>.</summary>
    public static byte[] SparseXorBf16(int count, Random rng, int oneIn)
    {
        float[] w = Weights(count, rng);
        byte[] xor = new byte[count * 2];
        for (int i = 0; i < count; i++)
        {
            if (rng.Next(oneIn) == 0)
            {
                ushort before = Bf16Bits(w[i]);
                ushort after = Bf16Bits(w[i] * (float)(1 + (0.01 * Gaussian(rng))));
                BinaryPrimitives.WriteUInt16LittleEndian(xor.AsSpan(2 * i), (ushort)(before ^ after));
            }
        }

        return xor;
    }

    /// <summary>Quantised weights as unsigned 8-bit codes around a zero point of 128.</summary>
    public static byte[] U8Codes(int count, Random rng)
    {
        byte[] codes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            codes[i] = (byte)Math.Clamp(128 + Math.Round(18 * Gaussian(rng)), 0, 255);
        }

        return codes;
    }

    /// <summary>Little-endian integers of <paramref name="size"/> bytes.</summary>
    public static byte[] Integers(IEnumerable<long> values, int size)
    {
        long[] all = values.ToArray();
        byte[] bytes = new byte[all.Length * size];
        for (int i = 0; i < all.Length; i++)
        {
            for (int b = 0; b < size; b++)
            {
                bytes[(i * size) + b] = (byte)(all[i] >> (8 * b));
            }
        }

        return bytes;
    }

    /// <summary>Random bytes (incompressible).</summary>
    public static byte[] Noise(int count, Random rng)
    {
        byte[] bytes = new byte[count];
        rng.NextBytes(bytes);
        return bytes;
    }
}
