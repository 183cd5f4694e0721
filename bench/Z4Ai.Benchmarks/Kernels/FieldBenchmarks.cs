using BenchmarkDotNet.Attributes;
using Z4Ai.Planes;

namespace Z4Ai.Benchmarks.Kernels;

/// <summary>
/// Float field split and merge (exponent stream + sign/mantissa planes): the scalar oracle (baseline) against each
/// vector width and the dispatching entry point, on BF16 (2-byte) and F32 (4-byte) elements.
/// </summary>
[Config(typeof(Config))]
public class FieldBenchmarks
{
    private byte[] _source = [];
    private byte[] _exponents = [];
    private byte[] _planes = [];
    private byte[] _destination = [];

    /// <summary>Input bytes per operation.</summary>
    [Params(64 * 1024, 4 * 1024 * 1024)]
    public int Size { get; set; }

    [Params(DType.BF16, DType.F32)]
    public DType DType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Weight-like values: small normal floats around zero, so the exponent byte varies as in real tensors.
        var random = new Random(42);
        _source = new byte[Size];
        if (DType == DType.F32)
        {
            Span<float> values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_source.AsSpan());
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)((random.NextDouble() - 0.5) * 0.1);
            }
        }
        else
        {
            Span<ushort> values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(_source.AsSpan());
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (ushort)(BitConverter.SingleToUInt32Bits((float)((random.NextDouble() - 0.5) * 0.1)) >> 16);
            }
        }

        int count = Size / (DType == DType.F32 ? 4 : 2);
        _exponents = new byte[count];
        _planes = new byte[count * FloatFields.GetPlaneCount(DType)];
        _destination = new byte[Size];
        FloatFields.SplitScalar(DType, _source, _exponents, _planes);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Split")]
    public void SplitScalar() => FloatFields.SplitScalar(DType, _source, _exponents, _planes);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public int SplitVector128() => FloatFields.SplitVector128(DType, _source, _exponents, _planes);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public int SplitVector256() => FloatFields.SplitVector256(DType, _source, _exponents, _planes);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public int SplitVector512() => FloatFields.SplitVector512(DType, _source, _exponents, _planes);

    [Benchmark]
    [BenchmarkCategory("Split")]
    public void Split() => FloatFields.Split(DType, _source, _exponents, _planes);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Merge")]
    public void MergeScalar() => FloatFields.MergeScalar(DType, _exponents, _planes, _destination);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public int MergeVector128() => FloatFields.MergeVector128(DType, _exponents, _planes, _destination);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public int MergeVector256() => FloatFields.MergeVector256(DType, _exponents, _planes, _destination);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public int MergeVector512() => FloatFields.MergeVector512(DType, _exponents, _planes, _destination);

    [Benchmark]
    [BenchmarkCategory("Merge")]
    public void Merge() => FloatFields.Merge(DType, _exponents, _planes, _destination);
}
