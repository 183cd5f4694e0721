using BenchmarkDotNet.Attributes;
using Z4Ai.Planes;

namespace Z4Ai.Benchmarks.Kernels;

/// <summary>
/// Byte-plane split and merge: the scalar oracle (baseline) against each vector width and the dispatching entry
/// point. A width the machine does not accelerate runs in software emulation and shows up as slow, so a "SIMD"
/// path that silently falls back cannot hide.
/// </summary>
[Config(typeof(Config))]
public class PlaneBenchmarks
{
    private byte[] _source = [];
    private byte[] _planes = [];
    private byte[] _destination = [];

    /// <summary>Input bytes per operation: an L2-resident tensor and one that streams from memory.</summary>
    [Params(64 * 1024, 4 * 1024 * 1024)]
    public int Size { get; set; }

    [Params(2, 4)]
    public int ElementSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[Size];
        new Random(42).NextBytes(_source);
        _planes = new byte[Size];
        _destination = new byte[Size];
        BytePlanes.SplitScalar(_source, _planes, ElementSize);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Split")]
    public void SplitScalar() => BytePlanes.SplitScalar(_source, _planes, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public int SplitVector128() => BytePlanes.SplitVector128(_source, _planes, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public int SplitVector256() => BytePlanes.SplitVector256(_source, _planes, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public int SplitVector512() => BytePlanes.SplitVector512(_source, _planes, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public void Split() => BytePlanes.Split(_source, _planes, ElementSize);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Merge")]
    public void MergeScalar() => BytePlanes.MergeScalar(_planes, _destination, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public int MergeVector128() => BytePlanes.MergeVector128(_planes, _destination, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public int MergeVector256() => BytePlanes.MergeVector256(_planes, _destination, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public int MergeVector512() => BytePlanes.MergeVector512(_planes, _destination, ElementSize);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public void Merge() => BytePlanes.Merge(_planes, _destination, ElementSize);
}
