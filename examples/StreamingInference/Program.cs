// StreamingInference: a small decoder-only transformer run straight from a .z4ai container, either with every
// weight loaded first or streamed through a verified, byte-bounded tensor cache. Both print the logits' SHA-256,
// which must match byte for byte.
//
//   dotnet run -c Release --project examples/StreamingInference -- --generate model.z4ai --layers 4 --dim 256 --ffn 688 --heads 8 --vocab 1000
//   dotnet run -c Release --project examples/StreamingInference -- --run model.z4ai --mode loaded
//   dotnet run -c Release --project examples/StreamingInference -- --run model.z4ai --mode streamed --budget-layers 2
using System.Globalization;
using StreamingInference;
using Z4Ai;

var options = new Dictionary<string, string>(StringComparer.Ordinal);
var flags = new HashSet<string>(StringComparer.Ordinal);
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--no-prefetch" or "--plain")
    {
        flags.Add(args[i]);
    }
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
    {
        options[args[i]] = args[++i];
    }
    else
    {
        return Usage($"unexpected argument '{args[i]}'");
    }
}

int Int(string key, int fallback) => options.TryGetValue(key, out string? s) ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;

try
{
    if (options.TryGetValue("--generate", out string? output))
    {
        var config = new ModelConfig(Int("--layers", 4), Int("--dim", 256), Int("--heads", 8), Int("--ffn", 688), Int("--vocab", 1000));
        bool plain = flags.Contains("--plain");
        CompressionEffort effort = Enum.Parse<CompressionEffort>(options.GetValueOrDefault("--effort", "Default"), ignoreCase: true);
        Console.WriteLine($"generating {config} ({config.TotalBytes} bytes of BF16) into {output} as {(plain ? "safetensors" : "z4ai")}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SyntheticModel.Generate(config, output, container: !plain, seed: (ulong)Int("--seed", 1), effort, Console.Out);
        Console.WriteLine($"wrote {new FileInfo(output).Length} bytes in {clock.Elapsed.TotalSeconds:F1} s; peak_rss_bytes: {Runner.PeakResidentBytes()}");
        return 0;
    }

    if (options.TryGetValue("--run", out string? path))
    {
        RunMode mode = Enum.Parse<RunMode>(options.GetValueOrDefault("--mode", "streamed"), ignoreCase: true);
        double layers = double.Parse(options.GetValueOrDefault("--budget-layers", "2"), CultureInfo.InvariantCulture);
        long? budget = options.TryGetValue("--budget", out string? b) ? long.Parse(b, CultureInfo.InvariantCulture) : null;
        RunResult r = Runner.Run(path, mode, Int("--tokens", 8), layers, budget, prefetch: !flags.Contains("--no-prefetch"));

        Console.WriteLine($"mode: {r.Mode.ToString().ToLowerInvariant()}");
        Console.WriteLine($"model: {r.Config} ({r.Config.TotalBytes} bytes BF16, {r.Config.LayerBytes} per layer)");
        if (r.Mode == RunMode.Streamed)
        {
            Console.WriteLine($"budget_bytes: {r.BudgetBytes}");
        }

        Console.WriteLine($"load_seconds: {r.LoadTime.TotalSeconds:F3}");
        Console.WriteLine($"forward_seconds: {r.ForwardTime.TotalSeconds:F3}");
        Console.WriteLine($"total_seconds: {(r.LoadTime + r.ForwardTime).TotalSeconds:F3}");
        Console.WriteLine($"logits_sha256: {r.LogitsSha256}");
        Console.WriteLine($"next_token: {r.NextToken}");
        if (r.Statistics is TensorSourceStatistics s)
        {
            Console.WriteLine(
                $"cache: requests={s.Requests} hits={s.Hits} prefetch_waits={s.PrefetchWaits} misses={s.Misses} evictions={s.Evictions} " +
                $"loaded_bytes={s.BytesLoaded} peak_cached_bytes={s.PeakCachedBytes} stall_seconds={s.StallTime.TotalSeconds:F3}");
        }

        Console.WriteLine($"peak_rss_bytes: {Runner.PeakResidentBytes()}");
        return 0;
    }

    return Usage("nothing to do");
}
catch (Z4AiIntegrityException ex)
{
    Console.Error.WriteLine($"integrity failure in tensor '{ex.Subject}': {ex.Message}");
    return 3;
}
catch (Z4AiFormatException ex)
{
    Console.Error.WriteLine($"corrupt data{(ex.TensorName is null ? string.Empty : $" in tensor '{ex.TensorName}'")}: {ex.Message}");
    return 3;
}

static int Usage(string problem)
{
    Console.Error.WriteLine(problem);
    Console.Error.WriteLine("usage: --generate FILE [--layers 4 --dim 256 --heads 8 --ffn 688 --vocab 1000 --seed 1 --effort default --plain]");
    Console.Error.WriteLine("       --run FILE --mode loaded|streamed [--budget-layers 2 | --budget BYTES] [--tokens 8] [--no-prefetch]");
    return 1;
}
