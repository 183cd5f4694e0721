using System.Buffers;
using BenchmarkDotNet.Attributes;
using Z4Ai.Codecs;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary>
/// Encode and decode of one 4 MiB chunk (the container's default) of dense weights per effort: Gaussian values
/// with per-row scales, as BF16 and as F32. The Throughput column is raw bytes per second on one thread; the
/// container codes chunks on every core. Run with
/// <c>dotnet run -c Release --project bench/Z4Ai.Benchmarks -- --filter '*CodecBenchmarks*' --job short</c>.
/// </summary>
[Config(typeof(Config))]
public class CodecBenchmarks
{
    private byte[] _raw = [];
    private byte[] _frame = [];
    private byte[] _decoded = [];
    private ArrayBufferWriter<byte> _writer = new();

    /// <summary>Raw bytes per operation.</summary>
    [Params(4 * 1024 * 1024)]
    public int Size { get; set; }

    [Params(DType.BF16, DType.F32)]
    public DType DType { get; set; }

    [Params(CompressionEffort.Fast, CompressionEffort.Default, CompressionEffort.Max)]
    public CompressionEffort Effort { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _raw = DType == DType.BF16
            ? CodecScenarios.Bf16(CodecScenarios.Weights(Size / 2, random))
            : CodecScenarios.F32(CodecScenarios.Weights(Size / 4, random));
        _writer = new ArrayBufferWriter<byte>(Size + 64);
        TensorCodec.Encode(_raw, DType, Effort, _writer, 4096);
        _frame = _writer.WrittenSpan.ToArray();
        _decoded = new byte[Size];
    }

    [Benchmark]
    [BenchmarkCategory("Encode")]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        TensorCodec.Encode(_raw, DType, Effort, _writer, 4096);
        return _writer.WrittenCount;
    }

    [Benchmark]
    [BenchmarkCategory("Decode")]
    public byte Decode()
    {
        TensorCodec.Decode(_frame, _decoded);
        return _decoded[^1];
    }
}
