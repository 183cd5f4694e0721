using System.Diagnostics;
using System.Security.Cryptography;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>Result of a general-purpose compressor on one file.</summary>
/// <param name="CompressedBytes">Size of its output.</param>
/// <param name="CompressSeconds">Wall time of the compressing process (fastest of the timed runs).</param>
/// <param name="DecompressSeconds">Wall time of decompressing to /dev/null (fastest of the timed runs).</param>
internal sealed record ExternalResult(long CompressedBytes, double CompressSeconds, double DecompressSeconds);

/// <summary>
/// A system compressor binary (<c>zstd</c> or <c>xz</c>) run on a file through <c>/bin/sh</c>, with its own default
/// threading (no <c>-T</c> flag). Times are wall clock of the whole process, start-up included. Every output is
/// decompressed once to a file and its SHA-256 compared with the input's, so a failing tool cannot post a ratio.
/// </summary>
internal sealed class ExternalCompressor
{
    private ExternalCompressor(string tool, string level, string version)
    {
        Tool = tool;
        Level = level;
        Version = version;
    }

    /// <summary>The binary name.</summary>
    public string Tool { get; }

    /// <summary>The level flag, such as <c>-19</c>.</summary>
    public string Level { get; }

    /// <summary>The first line of <c>--version</c>.</summary>
    public string Version { get; }

    /// <summary>How the column is labelled, such as <c>zstd -19</c>.</summary>
    public string Label => $"{Tool} {Level}";

    /// <summary>The compressor, or null when the binary is not on the PATH.</summary>
    public static ExternalCompressor? TryCreate(string tool, string level)
    {
        try
        {
            (int exit, string output) = Shell($"{tool} --version");
            // zstd decorates its banner with asterisks; the first line names tool and version for both.
            string line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()?.Trim('*', ' ') ?? tool;
            return exit == 0 ? new ExternalCompressor(tool, level, line) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>Compresses <paramref name="inputPath"/> and decompresses the result, checking the round trip.</summary>
    /// <param name="inputPath">The file to compress.</param>
    /// <param name="inputSha256">The SHA-256 of the file.</param>
    /// <param name="workDirectory">A scratch directory.</param>
    /// <param name="compressRuns">Timed compressions (the slow levels use one).</param>
    /// <param name="decompressRuns">Timed decompressions.</param>
    public ExternalResult Measure(string inputPath, byte[] inputSha256, string workDirectory, int compressRuns, int decompressRuns)
    {
        string packed = Path.Combine(workDirectory, $"{Tool}{Level}.out");
        string restored = Path.Combine(workDirectory, $"{Tool}{Level}.restored");
        try
        {
            string quiet = Tool == "zstd" ? " -q" : string.Empty;
            double compress = Best(compressRuns, $"{Tool} {Level}{quiet} -c -- {Quote(inputPath)} > {Quote(packed)}");
            long size = new FileInfo(packed).Length;
            Run($"{Tool} -d{quiet} -c -- {Quote(packed)} > {Quote(restored)}");
            using (FileStream check = File.OpenRead(restored))
            {
                if (!SHA256.HashData(check).AsSpan().SequenceEqual(inputSha256))
                {
                    throw new InvalidOperationException($"{Label} did not restore {inputPath}");
                }
            }

            double decompress = Best(decompressRuns, $"{Tool} -d{quiet} -c -- {Quote(packed)} > /dev/null");
            return new ExternalResult(size, compress, decompress);
        }
        finally
        {
            File.Delete(packed);
            File.Delete(restored);
        }
    }

    private static double Best(int runs, string command)
    {
        double best = double.MaxValue;
        for (int i = 0; i < Math.Max(runs, 1); i++)
        {
            var clock = Stopwatch.StartNew();
            Run(command);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return best;
    }

    private static void Run(string command)
    {
        (int exit, string output) = Shell(command);
        if (exit != 0)
        {
            throw new InvalidOperationException($"`{command}` exited with {exit}: {output}");
        }
    }

    private static (int ExitCode, string Output) Shell(string command)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start /bin/sh");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    // Single quotes keep the shell from interpreting anything in a path; an embedded quote is closed and escaped.
    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
