using BenchmarkDotNet.Attributes;
using Z4Ai.Runtime;

namespace Z4Ai.Benchmarks.Runtime;

/// <summary>
/// BF16 to float widening (the per-row cost the streamed transformer pays): the scalar oracle (baseline) against
/// each vector width and the dispatching entry point, so a "vector" path that is secretly scalar shows up.
/// </summary>
[Config(typeof(Config))]
public class WideningBenchmarks
{
    private ushort[] _source = [];
    private float[] _destination = [];

    /// <summary>Input bytes per operation (4096 BF16 values is one row of a 7B-class projection).</summary>
    [Params(8 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _source = new ushort[Size / 2];
        for (int i = 0; i < _source.Length; i++)
        {
            _source[i] = (ushort)(BitConverter.SingleToInt32Bits((float)((random.NextDouble() - 0.5) * 0.1)) >> 16);
        }

        _destination = new float[_source.Length];
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => Widening.Bf16ToSingleScalar(_source, _destination);

    [Benchmark]
    public int Vector128() => Widening.Bf16ToSingleVector128(_source, _destination);

    [Benchmark]
    public int Vector256() => Widening.Bf16ToSingleVector256(_source, _destination);

    [Benchmark]
    public int Vector512() => Widening.Bf16ToSingleVector512(_source, _destination);

    [Benchmark]
    public void Dispatch() => Widening.Bf16ToSingle(_source, _destination);
}

/// <summary>The fixed cost of a cache hit: lookup, pin, LRU move and lease, then release.</summary>
[Config(typeof(Config))]
public class TensorCacheBenchmarks
{
    private ITensorSource _source = null!;
    private string _path = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"z4ai-bench-cache-{Environment.ProcessId}.z4ai");
        var tensors = Enumerable.Range(0, 16).ToDictionary(
            i => $"t{i}", i => Tensor.FromArray<float>(DType.F32, [1024], new float[1024]));
        SafeTensorsCompat.SaveFile(tensors, _path);
        _source = TensorSource.Open(_path, new TensorSourceOptions { CacheBudgetBytes = 1 << 20 });
        for (int i = 0; i < 16; i++)
        {
            _source.Acquire($"t{i}").Dispose();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _source.Dispose();
        File.Delete(_path);
    }

    [Benchmark]
    public int AcquireHitAndRelease()
    {
        using TensorLease lease = _source.Acquire("t7");
        return lease.Bytes.Length;
    }
}
