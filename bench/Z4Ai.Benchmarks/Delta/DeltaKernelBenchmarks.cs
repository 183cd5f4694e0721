using BenchmarkDotNet.Attributes;
using Z4Ai.Delta;

namespace Z4Ai.Benchmarks.Delta;

/// <summary>Delta kernels on 1 MiB: the scalar oracle is the baseline, so a vector path that silently went scalar shows.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class DeltaKernelBenchmarks
{
    private byte[] _current = [];
    private byte[] _reference = [];
    private byte[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        _current = new byte[1 << 20];
        _reference = new byte[1 << 20];
        _destination = new byte[1 << 20];
        random.NextBytes(_current);
        random.NextBytes(_reference);
    }

    [Benchmark(Baseline = true)]
    public void OrderedSubtractBf16Scalar() =>
        DeltaKernels.ApplyScalar<short, OrderedSubtractOperator<short>>(_current, _reference, _destination, 0);

    [Benchmark]
    public void OrderedSubtractBf16() => DeltaKernels.Subtract(_current, _reference, _destination, 2, ordered: true);

    [Benchmark]
    public void OrderedAddBf16() => DeltaKernels.Add(_current, _reference, _destination, 2, ordered: true);

    [Benchmark]
    public void OrderedSubtractF32() => DeltaKernels.Subtract(_current, _reference, _destination, 4, ordered: true);

    [Benchmark]
    public void Xor() => DeltaKernels.Xor(_current, _reference, _destination);
}
