using System.Diagnostics;

namespace Z4Ai.Benchmarks.Archival;

public static class ArchiveTry2
{
    public static int Run(string[] args)
    {
        foreach (string path in args)
        {
            byte[] data = File.ReadAllBytes(path);
            foreach (bool primer in new[] { false, true })
            {
                var sw = Stopwatch.StartNew();
                byte[] archive = ArchiveCodec.Compress(data, new ArchiveOptions { UsePrimer = primer });
                double enc = sw.Elapsed.TotalSeconds;
                sw.Restart();
                byte[] back = ArchiveCodec.Decompress(archive);
                double dec = sw.Elapsed.TotalSeconds;
                ArchiveInfo info = ArchiveCodec.Inspect(archive);
                Console.WriteLine($"{Path.GetFileName(path),-12} primer={primer,-5} {data.Length,9} -> {archive.Length,8} {info.Model} {info.Primer} m{info.ModelBlocks}/z{info.ZstdBlocks}/s{info.StoredBlocks} enc {enc:F3}s dec {dec:F3}s {(back.AsSpan().SequenceEqual(data) ? "ok" : "MISMATCH")}");
            }
        }

        return 0;
    }
}
