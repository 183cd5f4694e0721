using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Entropy;
using Z4Ai.Integrity;

namespace Z4Ai.Benchmarks.Delta;

/// <summary>
/// Ratio table for checkpoint deltas on synthetic consecutive checkpoints, then model-level deltas on the same
/// checkpoints as files and on the real checkpoint pairs of the shared sample folder (<see cref="ModelDeltaCorpus"/>).
/// Not BenchmarkDotNet: one timed pass per cell, so the whole run stays around a minute. Run with
/// <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- delta-corpus [--size-mib N] [--seed N] [--effort Fast|Default|Max] [--data DIR] [--large-mib N] [--rows PART,PART] [--synthetic-only | --real-only] [--sparse-modes]</c>
/// (<c>--sparse-modes</c> prints, instead of the ratio table, the Sparse and SparseBlock payloads side by side).
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
        string? rows = null;
        bool syntheticOnly = false;
        bool realOnly = false;
        bool sparseModes = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--sparse-modes")
            {
                sparseModes = true;
                continue;
            }

            if (args[i] == "--synthetic-only")
            {
                syntheticOnly = true;
                continue;
            }

            if (args[i] == "--real-only")
            {
                realOnly = true;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                break;
            }

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
            else if (args[i] == "--rows")
            {
                rows = args[++i];
            }
        }

        int bytes = sizeMib << 20;
        PrintMachine();
        if (realOnly)
        {
            ModelDeltaCorpus.RealPairs(data, effort);
            return 0;
        }

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
        if (!sparseModes)
        {
            Console.WriteLine($"| checkpoint step ({sizeMib} MiB unless named) | values changed | order-0 bound: bits per value, ratio | bound given the reference's exponent: bits per value, ratio | target alone | zstd -19 of XOR | xz -9 of XOR | **Z4Ai delta** | vs zstd -19 | of the order-0 bound | enc MB/s | dec MB/s (SHA-256 of reference and result): wall, per CPU-s | dec MB/s (SHA-256 of result only): wall, per CPU-s | dec MB/s serial (result only): wall, per CPU-s | delta modes |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        }

        var checkpoints = new List<(string Name, byte[] Current, byte[] Reference, DType DType)>();
        foreach (double fraction in new[] { 0.01, 0.05, 0.20 })
        {
            checkpoints.Add(($"BF16, {fraction:P0} of weights step 1-3 ulp", SparseSteps(reference, fraction, random), reference, DType.BF16));
        }

        foreach (double fraction in new[] { 0.01, 0.05, 0.20 })
        {
            checkpoints.Add(($"BF16, {fraction:P0} of FP32 weights + N(0, 1e-4), rounded", ToBf16(Nudge(master, fraction, random)), reference, DType.BF16));
        }

        float[] stepped = AdamWStep(master, random);
        byte[] adam = ToBf16(stepped);
        checkpoints.Add(("BF16, AdamW step on every weight (rel ~1e-3)", adam, reference, DType.BF16));
        checkpoints.Add(("BF16, every value moves >= 1 ulp (AdamW direction)", ForceChange(adam, reference, stepped, master), reference, DType.BF16));

        float[] master32 = master.AsSpan(0, bytes / 4).ToArray();
        float[] stepped32 = stepped.AsSpan(0, bytes / 4).ToArray();
        checkpoints.Add(("F32 master weights, AdamW step on every weight", MemoryMarshal.AsBytes(stepped32.AsSpan()).ToArray(), MemoryMarshal.AsBytes(master32.AsSpan()).ToArray(), DType.F32));

        // The z4ai (Python) generator applied to real trained weights instead of N(0, 0.02) draws: its own random
        // stream, so the rows above are generated the same way whether or not the sample folder is present.
        float[]? real = RealMasterWeights(data ?? ModelDeltaCorpus.FindData());
        if (real is not null)
        {
            var realRandom = new Random(seed);
            byte[] realReference = ToBf16(real);
            foreach (double fraction in new[] { 0.01, 0.05, 0.20 })
            {
                checkpoints.Add((
                    $"real weights ({realReference.Length / 1e6:F1} MB BF16), {fraction:P0} of FP32 weights + N(0, 1e-4), rounded",
                    ToBf16(Nudge(real, fraction, realRandom)),
                    realReference,
                    DType.BF16));
            }
        }
        foreach ((string name, byte[] current, byte[] basis, DType dtype) in checkpoints)
        {
            // --rows keeps the rows whose name contains one of its comma-separated parts (the data is generated the
            // same way whatever is kept, so a row's numbers do not depend on the filter).
            if (!sparseModes && (rows is null || rows.Split(',').Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase))))
            {
                Row(name, current, basis, dtype, effort);
            }
        }

        if (sparseModes)
        {
            // Instead of the ratio table: the two sparse modes side by side on the selected rows.
            SparseModeTable(checkpoints.Where(c => rows is null || rows.Split(',').Any(part => c.Name.Contains(part, StringComparison.OrdinalIgnoreCase))));
        }

        if (syntheticOnly)
        {
            return 0;
        }

        Console.WriteLine();
        Console.WriteLine($"SHA-256 alone over {sizeMib} MiB: {mb(bytes) / Time(() => SHA256.HashData(reference)):F0} MB/s (the floor under every decode figure above)");
        Console.WriteLine();
        KernelThroughput(reference, adam);
        Console.WriteLine();
        ModelDeltaCorpus.SyntheticFiles(checkpoints, effort, largeMib);
        Console.WriteLine();
        ModelDeltaCorpus.RealPairs(data, effort);
        return 0;

        static double mb(long n) => n / 1e6;
    }

    private static void Row(string name, byte[] current, byte[] reference, DType dtype, CompressionEffort effort)
    {
        double mb = current.Length / 1e6;
        int elementSize = dtype.ElementSize();
        (long changed, double boundBits) = InformationBound(current, reference, elementSize);
        double conditionalBits = ConditionalBound(current, reference, elementSize);
        long elements = current.Length / elementSize;

        var alone = new ArrayBufferWriter<byte>(current.Length + 64);
        TensorCodec.Encode(current, dtype, effort, alone);

        byte[] xor = new byte[current.Length];
        DeltaKernels.Xor(current, reference, xor);
        byte[] zstd19 = new byte[ZstdBackend.GetMaxCompressedLength(xor.Length)];
        int zstd19Length = ZstdBackend.Compress(xor, zstd19, 19);
        long xzLength = Xz(xor);

        var sw = Stopwatch.StartNew();
        byte[] delta = DeltaCodec.Compress(current, reference, dtype, new DeltaOptions { Effort = effort });
        double encodeSeconds = sw.Elapsed.TotalSeconds;
        byte[] restored = DeltaCodec.Decompress(delta, reference);
        if (!restored.AsSpan().SequenceEqual(current))
        {
            throw new InvalidOperationException($"{name}: the delta did not round-trip");
        }

        // Best of three, wall clock and CPU time of the process: first the public Decompress (chunks on every core, the
        // result hashed in order as chunks finish), which hashes the reference to check it and the result to verify
        // it; then with the reference's digest already known (as a model-level reader or the registry has it), which
        // hashes only the result; then that on one thread.
        (double decodeSeconds, double decodeCpu) = TimeDecode(() => DeltaCodec.Decompress(delta, reference));
        Sha256Digest referenceDigest = Sha256Digest.Compute(reference);
        (double knownSeconds, double knownCpu) = TimeDecode(() => BufferDelta.Decode(delta, reference, referenceDigest));
        (double serialSeconds, double serialCpu) = TimeDecode(() => BufferDelta.Decode(delta, reference, referenceDigest, parallelism: 1));

        DeltaInfo info = DeltaCodec.Inspect(delta);
        string modes = string.Join(" ", Enum.GetValues<DeltaChunkMode>()
            .Where(m => info.CountChunks(m) > 0)
            .Select(m => $"{info.CountChunks(m)} {m.ToString().ToLowerInvariant()}"));
        double boundBytes = boundBits / 8;
        Console.WriteLine(
            $"| {name} | {100.0 * changed / elements:F2}% "
            + $"| {boundBits / elements:F3}, {current.Length / boundBytes:F1}x "
            + $"| {conditionalBits / elements:F3}, {current.Length / (conditionalBits / 8):F1}x "
            + $"| {Ratio(current.Length, alone.WrittenCount)} "
            + $"| {Ratio(current.Length, zstd19Length)} "
            + $"| {(xzLength > 0 ? Ratio(current.Length, xzLength) : "n/a")} "
            + $"| **{Ratio(current.Length, delta.Length)}** "
            + $"| {(double)zstd19Length / delta.Length:F2}x smaller "
            + $"| {100.0 * boundBytes / delta.Length:F0}% "
            + $"| {mb / encodeSeconds:F0} "
            + $"| {mb / decodeSeconds:F0}, {mb / Math.Max(decodeCpu, 1e-6):F0} "
            + $"| {mb / knownSeconds:F0}, {mb / Math.Max(knownCpu, 1e-6):F0} "
            + $"| {mb / serialSeconds:F0}, {mb / Math.Max(serialCpu, 1e-6):F0} "
            + $"| {modes} |");
    }

    /// <summary>
    /// The information in the change, as an order-0 bound: which elements changed (the binary entropy of the measured
    /// fraction, per element) plus, per changed element, the empirical entropy of its step (the zigzagged difference
    /// of the order-preserving integers). A coder that also knows the reference (its exponent, say) can go a little
    /// below this when the step size depends on it.
    /// </summary>
    internal static (long Changed, double Bits) InformationBound(byte[] current, byte[] reference, int elementSize)
    {
        var histogram = new Dictionary<ulong, long>();
        long changed = 0;
        long elements = current.Length / elementSize;
        for (long i = 0; i < elements; i++)
        {
            ulong c = ReadLane(current, i, elementSize);
            ulong r = ReadLane(reference, i, elementSize);
            if (c == r)
            {
                continue;
            }

            changed++;
            ulong step = Zigzag(Ordered(c, elementSize) - Ordered(r, elementSize), elementSize);
            histogram[step] = histogram.GetValueOrDefault(step) + 1;
        }

        double p = (double)changed / elements;
        double positions = p is 0 or 1 ? 0 : elements * (-(p * Math.Log2(p)) - ((1 - p) * Math.Log2(1 - p)));
        double steps = 0;
        foreach (long count in histogram.Values)
        {
            steps -= count * Math.Log2((double)count / changed);
        }

        return (changed, positions + steps);
    }

    private static ulong ReadLane(byte[] buffer, long index, int size) => size == 2
        ? BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan((int)(index * 2)))
        : BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan((int)(index * 4)));

    private static ulong Ordered(ulong x, int size)
    {
        ulong sign = 1UL << ((size * 8) - 1);
        ulong mask = (sign << 1) - 1;
        return (x & sign) != 0 ? x ^ mask : x ^ sign;
    }

    private static ulong Zigzag(ulong d, int size)
    {
        ulong sign = 1UL << ((size * 8) - 1);
        ulong mask = (sign << 1) - 1;
        d &= mask;
        return ((d << 1) ^ ((d & sign) != 0 ? mask : 0)) & mask;
    }

    /// <summary>
    /// The information in the change for a coder that knows the reference: per element, whether it changed given the
    /// reference's exponent (the eight bits below the sign), plus per changed element its step given that exponent,
    /// <c>H(changed | exponent) + H(step | exponent, changed)</c> from the empirical counts. No coder that sees only
    /// the exponent of the reference can go below it on average; with the changed positions independent of the
    /// values it equals the order-0 bound.
    /// </summary>
    internal static double ConditionalBound(byte[] current, byte[] reference, int elementSize)
    {
        int bits = elementSize * 8;
        long[] total = new long[256];
        long[] changedIn = new long[256];
        var steps = new Dictionary<(int Context, ulong Step), long>();
        long elements = current.Length / elementSize;
        for (long i = 0; i < elements; i++)
        {
            ulong c = ReadLane(current, i, elementSize);
            ulong r = ReadLane(reference, i, elementSize);
            int context = (int)((r >> (bits - 9)) & 0xFF);
            total[context]++;
            if (c == r)
            {
                continue;
            }

            changedIn[context]++;
            var key = (context, Zigzag(Ordered(c, elementSize) - Ordered(r, elementSize), elementSize));
            steps[key] = steps.GetValueOrDefault(key) + 1;
        }

        double sum = 0;
        for (int context = 0; context < 256; context++)
        {
            long n = total[context];
            long k = changedIn[context];
            if (k > 0 && k < n)
            {
                double p = (double)k / n;
                sum += n * (-(p * Math.Log2(p)) - ((1 - p) * Math.Log2(1 - p)));
            }
        }

        foreach (((int context, _), long count) in steps)
        {
            sum -= count * Math.Log2((double)count / changedIn[context]);
        }

        return sum;
    }

    /// <summary>
    /// The F32 tensors of the shared sample folder's use_lite and human_faceres-deep files (real trained weights), one
    /// buffer in the files' tensor order; null when the folder or a file is missing.
    /// </summary>
    private static float[]? RealMasterWeights(string? data)
    {
        if (data is null)
        {
            return null;
        }

        var values = new List<float>();
        foreach (string file in new[] { "use_lite.safetensors", "human_faceres-deep.safetensors" })
        {
            string path = Path.Combine(data, file);
            if (!File.Exists(path))
            {
                return null;
            }

            using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
            foreach (TensorInfo info in reader.Tensors.Where(t => t.DType == DType.F32))
            {
                values.AddRange(MemoryMarshal.Cast<byte, float>(reader.GetTensor(info.Name).Data.Span).ToArray());
            }
        }

        return values.ToArray();
    }

    /// <summary>The size of <c>xz -9</c> of <paramref name="data"/>, or -1 when no xz is on the path.</summary>
    private static long Xz(byte[] data)
    {
        try
        {
            var start = new ProcessStartInfo("xz", "-9 -T1 -c")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using Process process = Process.Start(start)!;
            Task<long> reading = Task.Run(() =>
            {
                long n = 0;
                byte[] buffer = new byte[1 << 16];
                int read;
                while ((read = process.StandardOutput.BaseStream.Read(buffer)) > 0)
                {
                    n += read;
                }

                return n;
            });
            process.StandardInput.BaseStream.Write(data);
            process.StandardInput.Close();
            long length = reading.Result;
            process.WaitForExit();
            return process.ExitCode == 0 ? length : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    /// <summary>
    /// The two sparse payloads side by side, per row: every 1 MiB chunk that either mode may store (at most half its
    /// elements changed) coded by Sparse and by SparseBlock directly, their bytes, the effort levels' whole deltas, and
    /// each mode's decode cost on one thread (copy of the reference chunk and patch, no hashing) as CPU nanoseconds per
    /// change and MB per CPU-second (best of five passes over the row's chunks).
    /// </summary>
    private static void SparseModeTable(IEnumerable<(string Name, byte[] Current, byte[] Reference, DType DType)> checkpoints)
    {
        Console.WriteLine("| checkpoint step | changes | Sparse bytes | SparseBlock bytes | SparseBlock / Sparse | delta bytes: Fast, Default | Sparse decode: CPU ns per change, MB per CPU-s | SparseBlock decode: CPU ns per change, MB per CPU-s |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        const int ChunkSize = DeltaOptions.DefaultChunkSize;
        foreach ((string name, byte[] current, byte[] reference, DType dtype) in checkpoints)
        {
            if (!DeltaLanes.TryGetSubtractLanes(dtype, out int laneSize, out bool ordered) || current.Length != reference.Length)
            {
                continue;
            }

            var sparse = new List<(int Offset, int Length, byte[] Payload)>();
            var block = new List<(int Offset, int Length, byte[] Payload)>();
            long changes = 0;
            for (int offset = 0; offset < current.Length; offset += ChunkSize)
            {
                int length = Math.Min(ChunkSize, current.Length - offset);
                ReadOnlySpan<byte> chunk = current.AsSpan(offset, length);
                ReadOnlySpan<byte> basis = reference.AsSpan(offset, length);
                int count = SparseDelta.CountChanges(chunk, basis, laneSize);
                if (count == 0 || count > length / laneSize / BufferDelta.SparseMaxDensity)
                {
                    continue;
                }

                byte[] room = new byte[(length * 3) + 1024];
                int written = SparseDelta.Encode(chunk, basis, laneSize, ordered, count, room);
                sparse.Add((offset, length, room[..written]));
                written = SparseBlockDelta.Encode(chunk, basis, laneSize, ordered, count, room);
                block.Add((offset, length, room[..written]));
                changes += count;
            }

            if (changes == 0)
            {
                Console.WriteLine($"| {name} | more than half of each chunk's elements changed: neither sparse mode applies | | | | | | |");
                continue;
            }

            byte[] target = new byte[current.Length];
            double sparseCpu = TimeDecode(() =>
            {
                foreach ((int offset, int length, byte[] payload) in sparse)
                {
                    reference.AsSpan(offset, length).CopyTo(target.AsSpan(offset, length));
                    SparseDelta.Decode(payload, target.AsSpan(offset, length), laneSize, ordered, 0);
                }
            }, 5).Cpu;
            double blockCpu = TimeDecode(() =>
            {
                foreach ((int offset, int length, byte[] payload) in block)
                {
                    reference.AsSpan(offset, length).CopyTo(target.AsSpan(offset, length));
                    SparseBlockDelta.Decode(payload, target.AsSpan(offset, length), laneSize, ordered, 0);
                }
            }, 5).Cpu;
            long covered = sparse.Sum(c => (long)c.Length);
            long sparseBytes = sparse.Sum(c => (long)c.Payload.Length);
            long blockBytes = block.Sum(c => (long)c.Payload.Length);
            // Max is left out: it codes every candidate with the slowest entropy coder, minutes per row on a busy machine.
            string efforts = string.Join(", ", new[] { CompressionEffort.Fast, CompressionEffort.Default }
                .Select(e => DeltaCodec.Compress(current, reference, dtype, new DeltaOptions { Effort = e }).Length));
            Console.WriteLine(
                $"| {name} | {changes} | {sparseBytes} | {blockBytes} | {(double)blockBytes / sparseBytes:F3} | {efforts} "
                + $"| {sparseCpu * 1e9 / changes:F1}, {covered / 1e6 / Math.Max(sparseCpu, 1e-6):F0} "
                + $"| {blockCpu * 1e9 / changes:F1}, {covered / 1e6 / Math.Max(blockCpu, 1e-6):F0} |");
        }
    }

    private static (double Wall, double Cpu) TimeDecode(Action decode, int passes = 3)
    {
        double wall = double.MaxValue;
        double cpuSeconds = double.MaxValue;
        for (int i = 0; i < passes; i++)
        {
            TimeSpan cpu = CpuTime();
            var sw = Stopwatch.StartNew();
            decode();
            wall = Math.Min(wall, sw.Elapsed.TotalSeconds);
            cpuSeconds = Math.Min(cpuSeconds, (CpuTime() - cpu).TotalSeconds);
        }

        return (wall, cpuSeconds);
    }

    private static TimeSpan CpuTime()
    {
        using Process process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
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

    /// <summary>
    /// The z4ai (Python) project's checkpoint-delta test generator: a <paramref name="fraction"/> of the FP32 weights
    /// move by N(0, 1e-4); the caller rounds to BF16, so many of those moves stay inside one BF16 step and only part of
    /// the fraction shows up as changed values.
    /// </summary>
    private static float[] Nudge(float[] master, double fraction, Random random)
    {
        float[] next = (float[])master.Clone();
        for (int i = 0; i < next.Length; i++)
        {
            if (random.NextDouble() < fraction)
            {
                next[i] += 1e-4f * Gaussian(random);
            }
        }

        return next;
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
