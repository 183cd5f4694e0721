namespace Z4Ai;

/// <summary>What a compressed buffer (a <see cref="Z4AiCodec"/> frame) holds and how it was coded.</summary>
public sealed class CodecFrameInfo
{
    internal CodecFrameInfo()
    {
    }

    /// <summary>The element type.</summary>
    public DType DType { get; internal init; }

    /// <summary>The recorded shape, or null when the frame records none.</summary>
    public IReadOnlyList<long>? Shape { get; internal init; }

    /// <summary>Bytes the frame decodes to.</summary>
    public long RawLength { get; internal init; }

    /// <summary>Bytes of the frame (or, for a container tensor, of its chunk frames).</summary>
    public long FrameLength { get; internal init; }

    /// <summary>Raw bytes per frame byte.</summary>
    public double Ratio => FrameLength == 0 ? 0 : (double)RawLength / FrameLength;

    /// <summary>Elements in the buffer (raw bytes for sub-byte dtypes are counted by their bit size).</summary>
    public long ElementCount => DType.BitSize() == 0 ? 0 : RawLength * 8 / DType.BitSize();

    /// <summary>Frame bits per element.</summary>
    public double BitsPerElement => ElementCount == 0 ? 0 : FrameLength * 8.0 / ElementCount;

    /// <summary>Raw bytes per chunk.</summary>
    public int ChunkSize { get; internal init; }

    /// <summary>The number of chunks.</summary>
    public long ChunkCount { get; internal init; }

    /// <summary>The SHA-256 of the raw bytes, lowercase hex; <see cref="Z4AiCodec.Inspect(ReadOnlySpan{byte})"/>
    /// has checked it against the decoded bytes.</summary>
    public string Sha256 { get; internal init; } = string.Empty;

    /// <summary>The recipes the chunks use (a description of the transform tree and the leaf coders), with how many
    /// chunks use each, in order of first use.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> Recipes { get; internal init; } = [];

    /// <summary>Every leaf stream of the recipes, summed over chunks, in order of first appearance.</summary>
    public IReadOnlyList<CodecStreamInfo> Streams { get; internal init; } = [];

    /// <summary>
    /// The order-0 entropy of the sign field, in bits per element, measured on the decoded data (BF16, F16 and F32
    /// only; null otherwise). With <see cref="ExponentEntropyBits"/> and <see cref="MantissaEntropyBits"/> it shows
    /// where the bits are and how close the coded streams come.
    /// </summary>
    public double? SignEntropyBits { get; internal init; }

    /// <summary>The order-0 entropy of the exponent field, in bits per element (BF16, F16, F32).</summary>
    public double? ExponentEntropyBits { get; internal init; }

    /// <summary>The order-0 entropy of the mantissa field, in bits per element (BF16, F16, F32; for F32 the sum over
    /// its three bytes, an upper bound).</summary>
    public double? MantissaEntropyBits { get; internal init; }
}
