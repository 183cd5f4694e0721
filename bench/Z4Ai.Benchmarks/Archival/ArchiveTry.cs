using System.Diagnostics;
using Z4Ai.Archival;

namespace Z4Ai.Benchmarks.Archival;

public static class ArchiveTry
{
    public static int Run(string[] args)
    {
        var preset = Enum.Parse<ArchivePreset>(args[0], true);
        foreach (string path in args[1..])
        {
            byte[] data = File.ReadAllBytes(path);
            var settings = ContextMixSettings.ForLength(preset, data.Length);
            var sw = Stopwatch.StartNew();
            var model = new ContextMixModel(settings, data.Length);
            ModelCoder.TryEncode(model, data, int.MaxValue, out byte[] payload, out int length);
            double enc = sw.Elapsed.TotalSeconds;
            sw.Restart();
            var model2 = new ContextMixModel(settings, data.Length);
            byte[] back = new byte[data.Length];
            ModelCoder.Decode(model2, payload.AsSpan(0, length), back);
            double dec = sw.Elapsed.TotalSeconds;
            bool ok = back.AsSpan().SequenceEqual(data);
            Console.WriteLine($"{Path.GetFileName(path),-12} {data.Length,9} -> {length,8}  bpc {length * 8.0 / data.Length:F3}  enc {data.Length / enc / 1e6:F2} MB/s dec {data.Length / dec / 1e6:F2} MB/s {(ok ? "ok" : "MISMATCH")}");
        }

        return 0;
    }
}
