using System.Buffers;
using System.Diagnostics;
using Z4Ai.Codecs;
using Z4Ai.Entropy;
using Z4Ai.Planes;

namespace Z4Ai.Benchmarks.Codecs;

internal static class StageProbe
{
    public static int Run(string[] args)
    {
        byte[] data = CodecScenarios.Bf16(CodecScenarios.Weights(2 << 20, new Random(7)));
        int n = data.Length / 2;
        byte[] exp = new byte[n], man = new byte[n];
        var w = new ArrayBufferWriter<byte>(data.Length + 64);
        Time("encode default", data.Length, () => { w.ResetWrittenCount(); TensorCodec.Encode(data, DType.BF16, CompressionEffort.Default, w, 4096); });
        byte[] frame = w.WrittenSpan.ToArray();
        byte[] back = new byte[data.Length];
        Time("decode default", data.Length, () => TensorCodec.Decode(frame, back));
        Time("encode fast", data.Length, () => { w.ResetWrittenCount(); TensorCodec.Encode(data, DType.BF16, CompressionEffort.Fast, w, 4096); });
        Time("split", data.Length, () => FloatFields.Split(DType.BF16, data, exp, man));
        uint[] counts = new uint[256];
        Time("count o0 exp", n, () => RansCodec.CountOrder0(exp, counts));
        Time("model o1 exp", n, () => RansCodec.BuildModel(exp, true, 8));
        RansModel m0 = RansCodec.BuildModel(exp, false, 8);
        Time("rans enc o0 exp", n, () => { w.ResetWrittenCount(); RansCodec.Encode(exp, m0, w); });
        byte[] enc = w.WrittenSpan.ToArray();
        Time("rans dec o0 exp", n, () => RansCodec.Decode(enc, false, 8, exp));
        var enc2 = new RecipeEncoder(CompressionEffort.Default);
        Time("EncodeSymbols exp", n, () => { w.ResetWrittenCount(); enc2.EncodeSymbols(exp, 8, 4096, w); });
        Time("EncodeSymbols man", n, () => { w.ResetWrittenCount(); enc2.EncodeSymbols(man, 8, 0, w); });
        Time("EncodeTyped", data.Length, () => { w.ResetWrittenCount(); enc2.EncodeTyped(data, DType.BF16, 4096, 0, w); });
        byte[] z = new byte[1 << 20];
        Time("EncodeTyped pooled", data.Length, () => { using var t = new CommunityToolkit.HighPerformance.Buffers.ArrayPoolBufferWriter<byte>(data.Length + 64); new RecipeEncoder(CompressionEffort.Default).EncodeTyped(data, DType.BF16, 4096, 0, t); });
        Time("encode default again", data.Length, () => { w.ResetWrittenCount(); TensorCodec.Encode(data, DType.BF16, CompressionEffort.Default, w, 4096); });
        Time("zstd3 64K", 65536, () => ZstdBackend.Compress(data.AsSpan(0, 65536), z, 3));
        Time("negzero count", data.Length, () => NegativeZeros.Count(data, 2));
        return 0;
    }

    private static void Time(string name, long bytes, Action a)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1.5)
        {
            a();
        }

        using var p = Process.GetCurrentProcess();
        int rounds = 0;
        TimeSpan start = p.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        do
        {
            a();
            rounds++;
            p.Refresh();
        }
        while ((p.TotalProcessorTime - start).TotalSeconds < 0.5);
        double cpu = (p.TotalProcessorTime - start).TotalSeconds / rounds;
        long alloc0 = GC.GetTotalAllocatedBytes(true);
        int g2 = GC.CollectionCount(2);
        a();
        Console.Write($"[alloc {(GC.GetTotalAllocatedBytes(true) - alloc0) / 1024} KiB, gen2 {GC.CollectionCount(2) - g2}] ");
        Console.WriteLine($"{name,-22} {cpu * 1e3,8:0.00} ms cpu {bytes / cpu / 1e6,8:0} MB/s   wall {sw.Elapsed.TotalSeconds / rounds * 1e3:0.00} ms");
    }
}
