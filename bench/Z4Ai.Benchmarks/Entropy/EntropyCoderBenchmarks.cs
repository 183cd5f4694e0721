using System.Buffers;
using BenchmarkDotNet.Attributes;
using Z4Ai.Entropy;

namespace Z4Ai.Benchmarks.Entropy;

/// <summary>
/// Encode and decode speed of each entropy method on a 4 MiB exponent stream shaped like trained bf16 weights
/// (Gaussian values, per-row scale spread over 3 octaves, rows of 1024). MB/s = 4.19 / mean seconds.
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class EntropyCoderBenchmarks
{
    private const int Rows = 4096;
    private const int Columns = 1024;

    private byte[] _symbols = [];
    private byte[] _encoded = [];
    private byte[] _decoded = [];
    private ArrayBufferWriter<byte> _writer = new();

    /// <summary>A public mirror of the internal <see cref="EntropyMethod"/> (same values), for the parameter column.</summary>
    public enum Coder
    {
        RansOrder0 = EntropyMethod.RansOrder0,
        RansOrder1 = EntropyMethod.RansOrder1,
        ContextMixing = EntropyMethod.ContextMixing,
        RansOrder0Wide = EntropyMethod.RansOrder0Wide,
    }

    [Params(Coder.RansOrder0, Coder.RansOrder1, Coder.ContextMixing, Coder.RansOrder0Wide)]
    public Coder Method { get; set; }

    private EntropyMethod Chosen => (EntropyMethod)Method;

    [GlobalSetup]
    public void Setup()
    {
        _symbols = GaussianBf16Exponents(Rows, Columns, 3, 42);
        _writer = new ArrayBufferWriter<byte>(_symbols.Length);
        EntropyCoder.Encode(_symbols, Chosen, 8, Columns, _writer);
        _encoded = _writer.WrittenSpan.ToArray();
        _decoded = new byte[_symbols.Length];
    }

    [Benchmark]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        return EntropyCoder.Encode(_symbols, Chosen, 8, Columns, _writer);
    }

    [Benchmark]
    public byte Decode()
    {
        EntropyCoder.Decode(_encoded, Chosen, 8, Columns, _decoded);
        return _decoded[^1];
    }

    internal static byte[] GaussianBf16Exponents(int rows, int columns, double rowScaleOctaves, int seed)
    {
        var random = new Random(seed);
        byte[] symbols = new byte[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            double sigma = 0.02 * Math.Pow(2, (random.NextDouble() - 0.5) * rowScaleOctaves);
            for (int c = 0; c < columns; c++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                uint bits = BitConverter.SingleToUInt32Bits((float)(g * sigma));
                uint rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16;
                symbols[(r * columns) + c] = (byte)((rounded >> 7) & 0xFF);
            }
        }

        return symbols;
    }
}
