using System.Diagnostics;
using Z4Ai.Archival;

namespace Z4Ai.Benchmarks.Archival;

public static class ArchiveTry
{
    public static int Run(string[] args)
    {
        var preset = Enum.Parse<ArchivePreset>(args[0], true);
        bool decode = Environment.GetEnvironmentVariable("NODEC") is null;
        long total = 0;
        foreach (string path in args[1..])
        {
            byte[] data = File.ReadAllBytes(path);
            var settings = ContextMixSettings.ForLength(preset, data.Length);
            var proc = Process.GetCurrentProcess(); var cpu0 = proc.TotalProcessorTime; var sw = Stopwatch.StartNew();
            var model = new ContextMixModel(settings, data.Length);
            ModelCoder.TryEncode(model, data, int.MaxValue, out byte[] payload, out int length);
            double enc = sw.Elapsed.TotalSeconds; proc.Refresh(); double encCpu = (proc.TotalProcessorTime - cpu0).TotalSeconds; cpu0 = proc.TotalProcessorTime;
            total += length;
            if (!decode) { Console.WriteLine($"{Path.GetFileName(path),-12} {data.Length,9} -> {length,8}  bpc {length * 8.0 / data.Length:F3}  enc {data.Length / enc / 1e6:F2} ({data.Length / encCpu / 1e6:F2} cpu)"); continue; }
            sw.Restart();
            var model2 = new ContextMixModel(settings, data.Length);
            byte[] back = new byte[data.Length];
            ModelCoder.Decode(model2, payload.AsSpan(0, length), back);
            double dec = sw.Elapsed.TotalSeconds; proc.Refresh(); double decCpu = (proc.TotalProcessorTime - cpu0).TotalSeconds;
            bool ok = back.AsSpan().SequenceEqual(data);
            Console.WriteLine($"{Path.GetFileName(path),-12} {data.Length,9} -> {length,8}  bpc {length * 8.0 / data.Length:F3}  enc {data.Length / enc / 1e6:F2} ({data.Length / encCpu / 1e6:F2} cpu) MB/s dec {data.Length / dec / 1e6:F2} ({data.Length / decCpu / 1e6:F2} cpu) MB/s {(ok ? "ok" : "MISMATCH")}");
        }

        Console.WriteLine($"total {total}");
        return 0;
    }
}
