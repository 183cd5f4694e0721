using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Entropy;

namespace Z4Ai.Benchmarks.Delta;

/// <summary>
/// Ratio table for checkpoint deltas on synthetic consecutive checkpoints, then model-level deltas on the same
/// checkpoints as files and on the real checkpoint pairs of the shared sample folder (<see cref="ModelDeltaCorpus"/>).
/// Not BenchmarkDotNet: one timed pass per cell, so the whole run stays around a minute. Run with
/// <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- delta-corpus [--size-mib N] [--seed N] [--effort Fast|Default|Max] [--data DIR] [--large-mib N]</c>.
/// </summary>
/// <remarks>
/// Weights are Gaussian (std 0.02, a typical initialisation scale). Sparse rows move the given fraction of BF16
/// values by one to three representable steps. The AdamW rows keep FP32 master weights and take one step
/// <c>w' = w (1 - 1e-5) - 1e-3 * std * z</c> with <c>z ~ N(0, 1)</c> (a relative step of about 1e-3 plus decoupled
/// weight decay), then round to BF16 as a checkpoint would; since that step is below half a BF16 step for most
/// weights, a further row forces every BF16 value to move at least one step in the update's direction. The FP32
/// row stores the master weights themselves, where every element changes.
/// </remarks>
public static class DeltaCorpus
{
    private const float Std = 0.02f;

    public static int Run(string[] args)
    {
        int sizeMib = 8;
        int seed = 42;
        var effort = CompressionEffort.Default;
        string? data = null;
        int largeMib = 64;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--size-mib")
            {
                sizeMib = int.Parse(args[++i]);
            }
            else if (args[i] == "--seed")
            {
                seed = int.Parse(args[++i]);
            }
            else if (args[i] == "--effort")
            {
                effort = Enum.Parse<CompressionEffort>(args[++i], ignoreCase: true);
            }
            else if (args[i] == "--data")
            {
                data = args[++i];
            }
            else if (args[i] == "--large-mib")
            {
                largeMib = int.Parse(args[++i]);
            }
        }

        int bytes = sizeMib << 20;
        PrintMachine();
        Console.WriteLine($"effort {effort}; target alone = one TensorCodec frame at that effort; zstd -N of XOR = the codec's ZstdBackend at level N over the whole XOR");
        Console.WriteLine();
        Warmup();

        var random = new Random(seed);
        float[] master = new float[bytes / 2];
        for (int i = 0; i < master.Length; i++)
        {
            master[i] = Gaussian(random) * Std;
        }

        byte[] reference = ToBf16(master);
        Console.WriteLine($"| checkpoint step ({sizeMib} MiB) | values changed | target alone: ratio, MB/s | zstd -3 of XOR: ratio, MB/s | zstd -19 of XOR: ratio | Z4Ai delta: ratio, enc MB/s, dec MB/s | vs zstd -19 | delta modes |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        var checkpoints = new List<(string Name, byte[] Current, byte[] Reference, DType DType)>();
        foreach (double fraction in new[] { 0.01, 0.05, 0.20 })
        {
            checkpoints.Add(($"BF16, {fraction:P0} of weights step 1-3 ulp", SparseSteps(reference, fraction, random), reference, DType.BF16));
        }

        float[] stepped = AdamWStep(master, random);
        byte[] adam = ToBf16(stepped);
        checkpoints.Add(("BF16, AdamW step on every weight (rel ~1e-3)", adam, reference, DType.BF16));
        checkpoints.Add(("BF16, every value moves >= 1 ulp (AdamW direction)", ForceChange(adam, reference, stepped, master), reference, DType.BF16));

        float[] master32 = master.AsSpan(0, bytes / 4).ToArray();
        float[] stepped32 = stepped.AsSpan(0, bytes / 4).ToArray();
        checkpoints.Add(("F32 master weights, AdamW step on every weight", MemoryMarshal.AsBytes(stepped32.AsSpan()).ToArray(), MemoryMarshal.AsBytes(master32.AsSpan()).ToArray(), DType.F32));
        foreach ((string name, byte[] current, byte[] basis, DType dtype) in checkpoints)
        {
            Row(name, current, basis, dtype, effort);
        }

        Console.WriteLine();
        KernelThroughput(reference, adam);
        Console.WriteLine();
        ModelDeltaCorpus.SyntheticFiles(checkpoints, effort, largeMib);
        Console.WriteLine();
        ModelDeltaCorpus.RealPairs(data, effort);
        return 0;
    }

    private static void Row(string name, byte[] current, byte[] reference, DType dtype, CompressionEffort effort)
    {
        double mb = current.Length / 1e6;
        int elementSize = dtype.ElementSize();
        long changed = 0;
        for (int i = 0; i < current.Length; i += elementSize)
        {
            if (!current.AsSpan(i, elementSize).SequenceEqual(reference.AsSpan(i, elementSize)))
            {
                changed++;
            }
        }

        var sw = Stopwatch.StartNew();
        var alone = new ArrayBufferWriter<byte>(current.Length + 64);
        TensorCodec.Encode(current, dtype, effort, alone);
        double aloneSeconds = sw.Elapsed.TotalSeconds;

        sw.Restart();
        byte[] xor = new byte[current.Length];
        DeltaKernels.Xor(current, reference, xor);
        byte[] zstd = new byte[ZstdBackend.GetMaxCompressedLength(xor.Length)];
        int zstdLength = ZstdBackend.Compress(xor, zstd, 3);
        double xorSeconds = sw.Elapsed.TotalSeconds;

        byte[] zstd19 = new byte[ZstdBackend.GetMaxCompressedLength(xor.Length)];
        int zstd19Length = ZstdBackend.Compress(xor, zstd19, 19);

        sw.Restart();
        byte[] delta = DeltaCodec.Compress(current, reference, dtype, new DeltaOptions { Effort = effort });
        double encodeSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        byte[] restored = DeltaCodec.Decompress(delta, reference);
        double decodeSeconds = sw.Elapsed.TotalSeconds;
        if (!restored.AsSpan().SequenceEqual(current))
        {
            throw new InvalidOperationException($"{name}: the delta did not round-trip");
        }

        DeltaInfo info = DeltaCodec.Inspect(delta);
        string modes = string.Join(" ", Enum.GetValues<DeltaChunkMode>()
            .Where(m => info.CountChunks(m) > 0)
            .Select(m => $"{info.CountChunks(m)} {m.ToString().ToLowerInvariant()}"));
        Console.WriteLine(
            $"| {name} | {100.0 * changed / (current.Length / elementSize):F1}% "
            + $"| {Ratio(current.Length, alone.WrittenCount)}, {mb / aloneSeconds:F0} "
            + $"| {Ratio(current.Length, zstdLength)}, {mb / xorSeconds:F0} "
            + $"| {Ratio(current.Length, zstd19Length)} "
            + $"| **{Ratio(current.Length, delta.Length)}**, {mb / encodeSeconds:F0}, {mb / decodeSeconds:F0} "
            + $"| {(double)zstd19Length / delta.Length:F2}x smaller "
            + $"| {modes} |");
    }

    internal static string Ratio(long raw, long stored) => $"{(double)raw / stored:F1}x";

    private static void KernelThroughput(byte[] reference, byte[] current)
    {
        byte[] destination = new byte[current.Length];
        double mb = current.Length / 1e6;
        Console.WriteLine("| kernel (BF16 lanes) | scalar MB/s | dispatched MB/s |");
        Console.WriteLine("| --- | --- | --- |");
        Measure("xor", () => DeltaKernels.ApplyScalar<byte, XorOperator<byte>>(current, reference, destination, 0), () => DeltaKernels.Xor(current, reference, destination));
        Measure("ordered subtract", () => DeltaKernels.ApplyScalar<short, OrderedSubtractOperator<short>>(current, reference, destination, 0), () => DeltaKernels.Subtract(current, reference, destination, 2, true));
        Measure("ordered add (inverse)", () => DeltaKernels.ApplyScalar<short, OrderedAddOperator<short>>(current, reference, destination, 0), () => DeltaKernels.Add(current, reference, destination, 2, true));

        void Measure(string name, Action scalar, Action vector)
        {
            Console.WriteLine($"| {name} | {mb / Time(scalar):F0} | {mb / Time(vector):F0} |");
        }
    }

    private static double Time(Action action)
    {
        action();
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static void Warmup()
    {
        byte[] a = new byte[1 << 16];
        byte[] b = new byte[1 << 16];
        new Random(1).NextBytes(a);
        byte[] delta = DeltaCodec.Compress(a, b, DType.BF16);
        DeltaCodec.Decompress(delta, b);
        DeltaCodec.Decompress(DeltaCodec.Compress(a, b, DType.F32), b);
    }

    internal static void PrintMachine()
    {
        Console.WriteLine($"{RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} logical cores, .NET {Environment.Version}");
        Console.WriteLine($"Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}; one timed pass per cell, single thread");
        Console.WriteLine();
    }

    internal static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    private static ushort Bf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    internal static byte[] ToBf16(float[] values)
    {
        byte[] bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), Bf16(values[i]));
        }

        return bytes;
    }

    internal static byte[] SparseSteps(byte[] reference, double fraction, Random random)
    {
        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < current.Length; i += 2)
        {
            if (random.NextDouble() < fraction)
            {
                ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(i));
                int step = random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1);
                BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i), (ushort)(bits + step));
            }
        }

        return current;
    }

    private static float[] AdamWStep(float[] master, Random random)
    {
        float[] next = new float[master.Length];
        for (int i = 0; i < master.Length; i++)
        {
            next[i] = (master[i] * (1f - 1e-5f)) - (1e-3f * Std * Gaussian(random));
        }

        return next;
    }

    private static byte[] ForceChange(byte[] rounded, byte[] reference, float[] stepped, float[] master)
    {
        byte[] current = (byte[])rounded.Clone();
        for (int i = 0; i < master.Length; i++)
        {
            ushort before = BinaryPrimitives.ReadUInt16LittleEndian(reference.AsSpan(i * 2));
            if (BinaryPrimitives.ReadUInt16LittleEndian(current.AsSpan(i * 2)) != before)
            {
                continue;
            }

            // One representable step up or down in value: away from zero adds to the magnitude bits.
            bool up = stepped[i] >= master[i];
            bool negative = (before & 0x8000) != 0;
            ushort after = (ushort)(up != negative ? before + 1 : before - 1);
            if ((before & 0x7FFF) == 0 && up == negative)
            {
                after = (ushort)(before ^ 0x8000); // at zero, step to the other zero
            }

            BinaryPrimitives.WriteUInt16LittleEndian(current.AsSpan(i * 2), after);
        }

        return current;
    }
}
