using BenchmarkDotNet.Attributes;
using Z4Ai.Transforms;

namespace Z4Ai.Benchmarks.Kernels;

/// <summary>
/// Byte-wide palette indices into a codebook of 7 entries (a sparse step stream's palette) expanded to 2- and 4-byte
/// elements: the scalar loop (baseline, what the palette decoder ran before) against each shuffle path.
/// </summary>
[Config(typeof(Config))]
public class CodebookLookupBenchmarks
{
    private const int Entries = 7;

    private byte[] _indices = [];
    private byte[] _codebook = [];
    private byte[] _destination = [];

    /// <summary>Indices per operation.</summary>
    [Params(4096, 1024 * 1024)]
    public int Count { get; set; }

    /// <summary>Bytes per element.</summary>
    [Params(2, 4)]
    public int ElementSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _indices = new byte[Count];
        for (int i = 0; i < Count; i++)
        {
            _indices[i] = random.Next(5) == 0 ? (byte)random.Next(1, Entries) : (byte)0;
        }

        _codebook = new byte[Entries * ElementSize];
        random.NextBytes(_codebook);
        _destination = new byte[Count * ElementSize];
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        int size = ElementSize;
        for (int j = 0; j < _indices.Length; j++)
        {
            _codebook.AsSpan(_indices[j] * size, size).CopyTo(_destination.AsSpan(j * size));
        }
    }

    [Benchmark]
    public int Vector128() => CodebookLookup.Expand(_indices, _codebook, Entries, ElementSize, _destination, CodebookLookup.Path.Vector128);

    [Benchmark]
    public int Avx2() => CodebookLookup.Expand(_indices, _codebook, Entries, ElementSize, _destination, CodebookLookup.Path.Avx2);
}
