using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Z4Ai.Codecs;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary>
/// The issue's codec scenarios, generated in memory and run through <see cref="TensorCodec"/> chunk by chunk (4 MiB,
/// as the container does) at every effort, beside system <c>zstd -19</c> and <c>xz -9</c> on the same bytes.
/// Prints ratio, single-thread encode MB/s and decode MB/s (process CPU time, so other load on the machine does not
/// distort it).
/// </summary>
/// <remarks>
/// Usage: <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- codec-scenarios [--mib N] [--only NAME]
/// [--no-external] [--efforts fast,default,max]</c>. The weights are Gaussian with a log-normal per-row scale (rows of 4096), like trained
/// matrices; every other scenario is derived from them.
/// </remarks>
internal static class CodecScenarios
{
    private const int ChunkSize = 4 << 20;
    private const int Columns = 4096;

    /// <summary>One generated buffer.</summary>
    internal sealed record Scenario(string Name, DType DType, double Floor, Func<int, Random, byte[]> Build);

    /// <summary>The scenarios, with the issue's published floors.</summary>
    internal static IReadOnlyList<Scenario> All { get; } =
    [
        new("dense-bf16", DType.BF16, 1.417, (bytes, rng) => Bf16(Weights(bytes / 2, rng))),
        new("dense-fp16", DType.F16, 0, (bytes, rng) => F16(Weights(bytes / 2, rng))),
        new("dense-fp32", DType.F32, 1.172, (bytes, rng) => F32(Weights(bytes / 4, rng))),
        new("fp32-holding-bf16", DType.F32, 3.02, (bytes, rng) => F32(ThroughBf16(Weights(bytes / 4, rng)))),
        new("zeros50-bf16", DType.BF16, 2.47, (bytes, rng) => Bf16(Prune(Weights(bytes / 2, rng), rng, 2))),
        new("zeros50-fp32", DType.F32, 2.21, (bytes, rng) => F32(Prune(Weights(bytes / 4, rng), rng, 2))),
        new("int8-tensor-bf16", DType.BF16, 2.39, (bytes, rng) => Bf16(Dequantise(Weights(bytes / 2, rng), 127, false))),
        new("int8-row-bf16", DType.BF16, 2.39, (bytes, rng) => Bf16(Dequantise(Weights(bytes / 2, rng), 127, true))),
        new("int8-tensor-fp32", DType.F32, 4.72, (bytes, rng) => F32(Dequantise(Weights(bytes / 4, rng), 127, false))),
        new("int8-row-fp32", DType.F32, 4.72, (bytes, rng) => F32(Dequantise(Weights(bytes / 4, rng), 127, true))),
        new("int4-tensor-bf16", DType.BF16, 5.41, (bytes, rng) => Bf16(Dequantise(Weights(bytes / 2, rng), 7, false))),
        new("int4-row-bf16", DType.BF16, 5.41, (bytes, rng) => Bf16(Dequantise(Weights(bytes / 2, rng), 7, true))),
        new("int4-tensor-fp32", DType.F32, 10.77, (bytes, rng) => F32(Dequantise(Weights(bytes / 4, rng), 7, false))),
        new("int4-row-fp32", DType.F32, 10.77, (bytes, rng) => F32(Dequantise(Weights(bytes / 4, rng), 7, true))),
        new("xor1pct-bf16", DType.BF16, 0, (bytes, rng) => SparseXor(bytes / 2, rng, 100)),
    ];

    public static int Run(string[] args)
    {
        int mib = 8;
        string? only = null;
        bool external = true;
        CompressionEffort[] efforts = [CompressionEffort.Fast, CompressionEffort.Default, CompressionEffort.Max];
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mib":
                    mib = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--only":
                    only = args[++i];
                    break;
                case "--no-external":
                    external = false;
                    break;
                case "--efforts":
                    efforts = [.. args[++i].Split(',').Select(e => Enum.Parse<CompressionEffort>(e, ignoreCase: true))];
                    break;
            }
        }

        Console.WriteLine($"# codec scenarios, {mib} MiB each, chunks of {ChunkSize >> 20} MiB, one thread; MB/s from process CPU time");
        Console.WriteLine($"{"scenario",-18} {"floor",6} {"zstd-19",8} {"xz-9",7} | {"effort",-7} {"ratio",7} {"enc MB/s",9} {"dec MB/s",9}  recipe");
        foreach (Scenario scenario in All)
        {
            if (only is not null && !scenario.Name.Contains(only, StringComparison.Ordinal))
            {
                continue;
            }

            byte[] data = scenario.Build(mib << 20, new Random(7));
            string zstd = external ? Ratio(data.Length, Analyze.External("zstd", "-19 -c -q", data)) : "-";
            string xz = external ? Ratio(data.Length, Analyze.External("xz", "-9 -c", data)) : "-";
            foreach (CompressionEffort effort in efforts)
            {
                (long compressed, double encode, double decode, string recipe) = Measure(data, scenario.DType, effort);
                Console.WriteLine(
                    $"{scenario.Name,-18} {scenario.Floor,6:0.000} {zstd,8} {xz,7} | {effort,-7} {Ratio(data.Length, compressed),7} {encode,9:0} {decode,9:0}  {recipe}");
            }
        }

        return 0;
    }

    internal static (long Compressed, double EncodeMBps, double DecodeMBps, string Recipe) Measure(byte[] data, DType dtype, CompressionEffort effort)
    {
        var frames = new List<byte[]>();
        var writer = new ArrayBufferWriter<byte>(ChunkSize + 64);

        // Warm up (JIT, pools) on the first chunk so the timed pass measures the codec, not the compiler.
        TensorCodec.Encode(data.AsSpan(0, Math.Min(ChunkSize, data.Length)), dtype, effort, writer, Columns);
        writer.ResetWrittenCount();
        TimeSpan start = CpuTime();
        for (int offset = 0; offset < data.Length; offset += ChunkSize)
        {
            writer.ResetWrittenCount();
            TensorCodec.Encode(data.AsSpan(offset, Math.Min(ChunkSize, data.Length - offset)), dtype, effort, writer, Columns);
            frames.Add(writer.WrittenSpan.ToArray());
        }

        double encodeSeconds = (CpuTime() - start).TotalSeconds;
        byte[] back = new byte[data.Length];
        int rounds = 0;
        start = CpuTime();
        do
        {
            for (int c = 0; c < frames.Count; c++)
            {
                int offset = c * ChunkSize;
                TensorCodec.Decode(frames[c], back.AsSpan(offset, Math.Min(ChunkSize, data.Length - offset)));
            }

            rounds++;
        }
        while ((CpuTime() - start).TotalSeconds < 0.3);
        double decodeSeconds = (CpuTime() - start).TotalSeconds / rounds;
        if (!back.AsSpan().SequenceEqual(data))
        {
            throw new InvalidOperationException("round trip failed");
        }

        long compressed = frames.Sum(f => (long)f.Length);
        string recipe = RecipeInspector.Describe(frames[0]);
        return (compressed, data.Length / encodeSeconds / 1e6, data.Length / decodeSeconds / 1e6, recipe);
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static string Ratio(long raw, long compressed) => ((double)raw / compressed).ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>Gaussian weights, rows of <see cref="Columns"/>, each row with a log-normal scale around 0.02.</summary>
    internal static float[] Weights(int count, Random rng)
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

    internal static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    internal static ushort Bf16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    internal static byte[] Bf16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), Bf16Bits(values[i]));
        }

        return bytes;
    }

    internal static byte[] F16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
        }

        return bytes;
    }

    internal static byte[] F32(float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }

    internal static float[] ThroughBf16(float[] w)
    {
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = BitConverter.UInt32BitsToSingle((uint)Bf16Bits(w[i]) << 16);
        }

        return w;
    }

    internal static float[] Prune(float[] w, Random rng, int oneIn)
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

    /// <summary>Symmetric quantise-dequantise with one scale per tensor or per row.</summary>
    internal static float[] Dequantise(float[] w, int qmax, bool perRow)
    {
        float tensorMax = 0;
        foreach (float v in w)
        {
            tensorMax = Math.Max(tensorMax, Math.Abs(v));
        }

        for (int row = 0; row < w.Length / Columns; row++)
        {
            Span<float> values = w.AsSpan(row * Columns, Columns);
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

    /// <summary>The XOR of a bf16 tensor with an update that changed one element in <paramref name="oneIn"/> slightly.</summary>
    internal static byte[] SparseXor(int count, Random rng, int oneIn)
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
}
