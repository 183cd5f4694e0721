using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Z4Ai.Codecs;
using Z4Ai.Internal;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary>
/// The issue's speed targets on dense Gaussian-like BF16 (rows of 4096 with per-row scales, as in
/// <see cref="CodecScenarios"/>): <see cref="Z4AiCodec.Compress(ReadOnlySpan{byte}, DType, CodecOptions?)"/> and
/// <see cref="Z4AiCodec.Decompress(ReadOnlySpan{byte}, Span{byte})"/> (SHA-256 verification included) at each effort,
/// on all cores, in wall-clock MB/s (raw bytes), the best of several rounds. SHA-256 alone is printed as the ceiling
/// verification puts on a single thread.
/// </summary>
/// <remarks>
/// Usage: <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- codec-speed [--mib N] [--rounds N]
/// [--threads N]</c> (defaults: 32 MiB, 5 rounds, every core).
/// </remarks>
internal static class CodecSpeed
{
    private const int Columns = 4096;

    public static int Run(string[] args)
    {
        int mib = 32;
        int rounds = 5;
        int threads = Environment.ProcessorCount;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mib":
                    mib = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--threads":
                    threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
            }
        }

        byte[] data = CodecScenarios.Bf16(CodecScenarios.Weights((mib << 20) / 2, new Random(7)));
        long[] shape = [data.Length / 2 / Columns, Columns];
        Console.WriteLine($"# codec speed: dense-bf16, {mib} MiB, shape [{shape[0]}, {shape[1]}], {threads} threads of {Environment.ProcessorCount} cores, best of {rounds} rounds, wall clock");
        Console.WriteLine($"# load average at start: {LoadAverage()}");
        byte[] digest = new byte[32];
        Console.WriteLine($"sha256 alone (one thread): {Rate(data.Length, Best(rounds, () => SHA256.HashData(data, digest)))} MB/s");
        Console.WriteLine("# each figure: wall-clock MB/s, then in brackets MB per CPU-second summed over threads (what other load on the machine distorts least)");
        Console.WriteLine($"{"effort",-8} {"ratio",7} {"compress",18} {"decompress+verify",18} {"decode only",18}");
        foreach (CompressionEffort effort in new[] { CompressionEffort.Fast, CompressionEffort.Default })
        {
            var options = new CodecOptions { Effort = effort, Shape = shape, MaxDegreeOfParallelism = threads };
            byte[] frame = Z4AiCodec.Compress(data, DType.BF16, options);
            (double Wall, double Cpu) encode = Best(rounds, () => frame = Z4AiCodec.Compress(data, DType.BF16, options));
            byte[] back = new byte[data.Length];
            (double Wall, double Cpu) decode = Best(rounds, () => Z4AiCodec.Decompress(frame, back));
            if (!back.AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException("round trip failed");
            }

            Array.Clear(back);
            (double Wall, double Cpu) decodeOnly = Best(rounds, () => DecodeOnly(frame, back, threads));
            if (!back.AsSpan().SequenceEqual(data))
            {
                throw new InvalidOperationException("round trip failed");
            }

            Console.WriteLine(
                $"{effort,-8} {(double)data.Length / frame.Length,7:0.0000} {Rate(data.Length, encode),18} {Rate(data.Length, decode),18} {Rate(data.Length, decodeOnly),18}");
        }

        Console.WriteLine($"# load average at end: {LoadAverage()}");
        return 0;
    }

    // The chunks of a frame decoded on every thread without the SHA-256 check: the codec's own decode speed.
    private static void DecodeOnly(byte[] frame, byte[] destination, int threads)
    {
        (BufferFrameHeader header, int[] offsets, _) = BufferFrame.Index(frame);
        ParallelChunks.For(offsets.Length, threads, c =>
        {
            var reader = new SpanReader(frame.AsSpan(offsets[c]));
            ReadOnlySpan<byte> chunk = BufferFrame.ReadChunk(ref reader, header, c);
            TensorCodec.Decode(chunk, destination.AsSpan(c * header.ChunkSize, header.ChunkLength(c)));
        });
    }

    private static string Rate(long bytes, (double Wall, double Cpu) time) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / time.Wall / 1e6:0} ({bytes / time.Cpu / 1e6:0})");

    // The fastest of the rounds by wall clock, with that round's process CPU time, after a second of warm-up (the
    // JIT's tiered compilation replaces the first code of the hot loops only after many calls).
    private static (double Wall, double Cpu) Best(int rounds, Action action)
    {
        var warm = Stopwatch.StartNew();
        do
        {
            action();
        }
        while (warm.Elapsed.TotalSeconds < 1);

        (double Wall, double Cpu) best = (double.MaxValue, double.MaxValue);
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < rounds; r++)
        {
            process.Refresh();
            TimeSpan cpu = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            action();
            double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            process.Refresh();
            if (wall < best.Wall)
            {
                best = (wall, Math.Max(1e-6, (process.TotalProcessorTime - cpu).TotalSeconds));
            }
        }

        return best;
    }

    private static string LoadAverage()
    {
        const string source = "/proc/loadavg";
        return File.Exists(source) ? string.Join(' ', File.ReadAllText(source).Split(' ').Take(3)) : "unknown";
    }
}
