using System.Diagnostics;
using Z4Ai.Entropy;
using Z4Ai.Planes;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary><c>codec-analyze FILE...</c>: per tensor of a safetensors file, xz -9 on its bytes, distinct values,
/// zeros, and the order-0/1 entropies of its exponent and mantissa streams (what a recipe can hope for).</summary>
internal static class Analyze
{
    public static int Run(string[] args)
    {
        foreach (string path in args)
        {
            using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
            Console.WriteLine($"== {Path.GetFileName(path)}");
            long raw = 0, xzSum = 0;
            foreach (TensorInfo info in reader.Tensors.OrderByDescending(t => t.ByteLength).Take(args.Length > 0 ? 40 : 0))
            {
                byte[] data = reader.GetTensor(info.Name).Data.ToArray();
                raw += data.Length;
                long xz = External("xz", "-9e -c", data);
                xzSum += xz;
                var distinct = new HashSet<ulong>();
                int es = info.DType.ElementSize();
                int zeros = 0;
                for (int i = 0; i + es <= data.Length; i += es)
                {
                    ulong v = 0;
                    for (int b = 0; b < es; b++) v |= (ulong)data[i + b] << (8 * b);
                    if (distinct.Count < 70000) distinct.Add(v);
                    if (v == 0) zeros++;
                }
                string fields = "";
                if (FloatFields.IsSupported(info.DType) && data.Length > 0)
                {
                    int n = data.Length / es;
                    byte[] e = new byte[n], m = new byte[n * FloatFields.GetPlaneCount(info.DType)];
                    FloatFields.Split(info.DType, data, e, m);
                    fields = $"exp o0 {EntropyStats.Order0Bits(e) / n:0.00} o1 {EntropyStats.Order1Bits(e) / n:0.00}";
                    for (int k = 0; k < FloatFields.GetPlaneCount(info.DType); k++)
                        fields += $" p{k} {EntropyStats.Order0Bits(m.AsSpan(k * n, n)) / n:0.00}";
                }
                else if (data.Length > 0)
                {
                    fields = $"byte o0 {EntropyStats.Order0Bits(data) / data.Length:0.00} o1 {EntropyStats.Order1Bits(data) / data.Length:0.00}";
                }
                Console.WriteLine($"{info.Name,-50} {info.DType.GetName(),-5} [{string.Join(",", info.Shape)}] {data.Length,9} xz {(double)data.Length / Math.Max(1, xz),6:0.000} distinct {distinct.Count,6} zeros {zeros * 100.0 * es / Math.Max(1, data.Length),5:0.0}% {fields}");
            }
            Console.WriteLine($"top tensors raw {raw} xz-per-tensor {(double)raw / xzSum:0.000}");
        }
        return 0;
    }

    internal static long External(string tool, string arguments, byte[] data)
    {
        var psi = new ProcessStartInfo(tool, arguments) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process p = Process.Start(psi)!;
        var copy = Task.Run(() => { p.StandardInput.BaseStream.Write(data); p.StandardInput.Close(); });
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        copy.Wait();
        p.WaitForExit();
        return ms.Length;
    }
}
