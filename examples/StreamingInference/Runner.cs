using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Z4Ai;

namespace StreamingInference;

/// <summary>How the weights reach the forward pass.</summary>
public enum RunMode
{
    /// <summary>Every tensor loaded (and verified) before the first layer runs.</summary>
    Loaded,

    /// <summary>Tensors streamed through an <see cref="ITensorSource"/> with a byte budget, prefetching the next layer.</summary>
    Streamed,
}

/// <summary>What one forward pass produced and cost.</summary>
public sealed record RunResult(
    RunMode Mode,
    ModelConfig Config,
    string LogitsSha256,
    int NextToken,
    TimeSpan LoadTime,
    TimeSpan ForwardTime,
    long BudgetBytes,
    TensorSourceStatistics? Statistics);

/// <summary>Runs one forward pass in either mode.</summary>
public static class Runner
{
    /// <summary>A short deterministic prompt of <paramref name="count"/> token ids below <paramref name="vocab"/>.</summary>
    public static int[] Prompt(int count, int vocab) => Enumerable.Range(0, count).Select(i => (int)((1 + (i * 7919L)) % vocab)).ToArray();

    /// <param name="path">A model made by <see cref="SyntheticModel.Generate"/> (.z4ai or .safetensors).</param>
    /// <param name="mode">Loaded or streamed.</param>
    /// <param name="tokenCount">The prompt length (see <see cref="Prompt"/>).</param>
    /// <param name="budgetLayers">Streamed only: the cache budget in layers (raised to the largest tensor if that is bigger).</param>
    /// <param name="budgetBytes">Streamed only: an explicit budget in bytes instead.</param>
    /// <param name="prefetch">Streamed only: decode the next layer in the background.</param>
    public static RunResult Run(string path, RunMode mode, int tokenCount = 8, double budgetLayers = 2, long? budgetBytes = null, bool prefetch = true)
    {
        var clock = Stopwatch.StartNew();
        if (mode == RunMode.Loaded)
        {
            IReadOnlyDictionary<string, Tensor> all = SafeTensorsCompat.LoadFile(path);
            ModelConfig loadedConfig;
            using (SafeTensorsReader reader = SafeTensorsCompat.Open(path))
            {
                loadedConfig = ModelConfig.FromMetadata(reader.Metadata);
            }

            TimeSpan loadTime = clock.Elapsed;
            using var weights = new LoadedWeights(all);
            return Finish(mode, loadedConfig, weights, tokenCount, loadTime, clock, 0, null);
        }

        ModelConfig config;
        long largest;
        using (SafeTensorsReader reader = SafeTensorsCompat.Open(path))
        {
            config = ModelConfig.FromMetadata(reader.Metadata);
            largest = reader.Tensors.Max(t => t.ByteLength);
        }

        long budget = budgetBytes ?? Math.Max(largest, (long)(budgetLayers * config.LayerBytes));
        ITensorSource source = TensorSource.Open(path, new TensorSourceOptions { CacheBudgetBytes = budget });
        using var streamed = new StreamedWeights(source, prefetch);
        return Finish(mode, config, streamed, tokenCount, TimeSpan.Zero, clock, budget, source);
    }

    /// <summary>The SHA-256 of the logits' bytes (little-endian floats), lowercase hex.</summary>
    public static string Digest(float[] logits) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(logits.AsSpan())));

    /// <summary>The peak resident set size the OS reports for this process (VmHWM), or -1 where there is none.</summary>
    public static long PeakResidentBytes()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return -1;
        }

        foreach (string line in File.ReadLines(status))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return -1;
    }

    private static RunResult Finish(
        RunMode mode, ModelConfig config, IWeights weights, int tokenCount, TimeSpan loadTime, Stopwatch clock, long budget, ITensorSource? source)
    {
        int[] tokens = Prompt(tokenCount, config.Vocab);
        float[] logits = new Transformer(config, weights).Forward(tokens);
        TimeSpan forward = clock.Elapsed - loadTime;
        int v = config.Vocab;
        ReadOnlySpan<float> last = logits.AsSpan((tokens.Length - 1) * v, v);
        int next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(last);
        return new RunResult(mode, config, Digest(logits), next, loadTime, forward, budget, source?.GetStatistics());
    }
}
