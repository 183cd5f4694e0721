using System.Diagnostics;
using System.Globalization;

namespace Z4Ai.Benchmarks.Format;

/// <summary>
/// <c>format [--mib 256]</c>: save, load and one-tensor load throughput of the container against the plain
/// .safetensors file, measured in the same run on the same generated model (best of three runs each).
/// </summary>
internal static class FormatThroughput
{
    public static int Run(string[] args)
    {
        int mib = 256;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--mib")
            {
                mib = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
        }

        string dir = Path.Combine(Path.GetTempPath(), "z4ai-bench-format-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            Dictionary<string, Tensor> model = FormatBenchmarks.CreateModel(mib);
            long rawBytes = model.Values.Sum(t => (long)t.Data.Length);
            string plain = Path.Combine(dir, "model.safetensors");
            string container = Path.Combine(dir, "model.z4ai");
            string probe = model.Keys.Order(StringComparer.Ordinal).First();
            var plainOptions = new SaveOptions { Format = StorageFormat.SafeTensors };

            var rows = new List<string[]>();
            rows.Add(["operation", "plain safetensors", "z4ai container", "container / plain"]);
            double savePlain = Best(() => SafeTensorsCompat.SaveFile(model, plain, options: plainOptions));
            double saveContainer = Best(() => SafeTensorsCompat.SaveFile(model, container));
            rows.Add(Row("save (MB/s of raw tensors)", rawBytes, savePlain, saveContainer));
            double loadPlain = Best(() => SafeTensorsCompat.LoadFile(plain));
            double loadContainer = Best(() => SafeTensorsCompat.LoadFile(container));
            rows.Add(Row("load all, verified (MB/s)", rawBytes, loadPlain, loadContainer));
            long probeBytes = model[probe].Data.Length;
            double onePlain = Best(() => SafeTensorsCompat.LoadTensor(plain, probe));
            double oneContainer = Best(() => SafeTensorsCompat.LoadTensor(container, probe));
            rows.Add(Row($"load one tensor of {probeBytes >> 20} MiB (MB/s)", probeBytes, onePlain, oneContainer));
            rows.Add(["file size", Mb(new FileInfo(plain).Length), Mb(new FileInfo(container).Length),
                ((double)new FileInfo(container).Length / new FileInfo(plain).Length).ToString("0.000", CultureInfo.InvariantCulture)]);

            Console.WriteLine($"# Format throughput: {model.Count} BF16 tensors, {rawBytes >> 20} MiB, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            Console.WriteLine();
            foreach (string[] row in rows)
            {
                Console.WriteLine("| " + string.Join(" | ", row) + " |");
                if (row == rows[0])
                {
                    Console.WriteLine("|" + string.Concat(Enumerable.Repeat(" --- |", row.Length)));
                }
            }

            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string[] Row(string name, long bytes, double plainSeconds, double containerSeconds) =>
    [
        name,
        Rate(bytes, plainSeconds),
        Rate(bytes, containerSeconds),
        (plainSeconds / containerSeconds).ToString("0.00", CultureInfo.InvariantCulture) + "x speed",
    ];

    private static string Rate(long bytes, double seconds) => (bytes / seconds / 1e6).ToString("0", CultureInfo.InvariantCulture);

    private static string Mb(long bytes) => (bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB";

    private static double Best(Action action)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }

        return best;
    }
}
