using System.Buffers;

namespace Z4Ai.Entropy;

/// <summary>
/// The entry point of the entropy layer for symbol streams (exponents, small alphabets): encodes with a chosen
/// <see cref="EntropyMethod"/>, decodes, and estimates which method is smallest for an effort level.
/// </summary>
/// <remarks>
/// Payloads are self-contained (tables included) but carry neither their method nor the symbol count: the caller's
/// frame stores both and passes them back to <see cref="Decode"/>. Every method round-trips the empty stream as an
/// empty payload.
/// </remarks>
internal static class EntropyCoder
{
    /// <summary>
    /// The most symbols one call codes (2^30): the rANS word buffer holds two bytes per symbol in one array, and
    /// callers code chunks of at most 64 MiB, so this only rules out int overflow.
    /// </summary>
    public const int MaxSymbols = 1 << 30;

    /// <summary>
    /// Appends a self-contained encoding of <paramref name="symbols"/> to <paramref name="output"/> and returns the
    /// number of bytes written.
    /// </summary>
    /// <param name="symbols">The symbols, each below 2^<paramref name="alphabetBits"/>.</param>
    /// <param name="method">The coder.</param>
    /// <param name="alphabetBits">1..8: 5 for fp16 exponents, 8 for bytes (smaller alphabets mean smaller tables).</param>
    /// <param name="rowLength">Elements per row of the tensor, 0 when unknown (used by context mixing; the rows of the
    /// row-class method, which needs at least two).</param>
    /// <param name="output">Receives the payload.</param>
    public static int Encode(ReadOnlySpan<byte> symbols, EntropyMethod method, int alphabetBits, int rowLength, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        ValidateParameters(alphabetBits, rowLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(symbols.Length, MaxSymbols, nameof(symbols));
        ValidateSymbols(symbols, alphabetBits);
        if (symbols.IsEmpty)
        {
            return method is >= EntropyMethod.RansOrder0 and <= EntropyMethod.RansRowClassesWide
                ? 0
                : throw new ArgumentOutOfRangeException(nameof(method), method, "unknown entropy method");
        }

        return method switch
        {
            EntropyMethod.RansOrder0 => RansCodec.Encode(symbols, RansCodec.BuildModel(symbols, order1: false, alphabetBits), output),
            EntropyMethod.RansOrder1 => RansCodec.Encode(symbols, RansCodec.BuildModel(symbols, order1: true, alphabetBits), output),
            EntropyMethod.ContextMixing => ContextMixingCodec.Encode(symbols, alphabetBits, rowLength, output),
            EntropyMethod.RansRowClasses => RowClassCodec.Encode(symbols, BuildRowClasses(symbols, alphabetBits, rowLength), output),
            EntropyMethod.RansOrder0Wide => RansCodec.EncodeWide(symbols, RansCodec.BuildModel(symbols, order1: false, alphabetBits), output),
            EntropyMethod.RansRowClassesWide => RowClassCodec.Encode(symbols, BuildRowClasses(symbols, alphabetBits, rowLength), output, wide: true),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown entropy method"),
        };
    }

    /// <summary>
    /// Decodes exactly <paramref name="symbols"/>.Length symbols. Malformed or hostile input raises
    /// <see cref="Z4AiFormatException"/> (<see cref="Z4AiErrorKind.CorruptFrame"/>); decoding never hangs and allocates
    /// only in proportion to the symbol count and the declared tables.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> encoded, EntropyMethod method, int alphabetBits, int rowLength, Span<byte> symbols)
    {
        ValidateParameters(alphabetBits, rowLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(symbols.Length, MaxSymbols, nameof(symbols));
        switch (method)
        {
            case EntropyMethod.RansOrder0:
                RansCodec.Decode(encoded, order1: false, alphabetBits, symbols);
                break;
            case EntropyMethod.RansOrder1:
                RansCodec.Decode(encoded, order1: true, alphabetBits, symbols);
                break;
            case EntropyMethod.ContextMixing:
                ContextMixingCodec.Decode(encoded, alphabetBits, rowLength, symbols);
                break;
            case EntropyMethod.RansRowClasses:
                RowClassCodec.Decode(encoded, alphabetBits, rowLength, symbols);
                break;
            case EntropyMethod.RansOrder0Wide:
                RansCodec.Decode(encoded, order1: false, alphabetBits, symbols, wide: true);
                break;
            case EntropyMethod.RansRowClassesWide:
                RowClassCodec.Decode(encoded, alphabetBits, rowLength, symbols, wide: true);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "unknown entropy method");
        }
    }

    /// <summary>
    /// Picks the method expected to be smallest among those <paramref name="effort"/> allows (Fast: order-0 rANS;
    /// Default: order-0 or order-1 rANS; Max: those or context mixing) from symbol counts alone, and returns it with
    /// its estimated payload size, so a caller can compare with other codecs without encoding twice.
    /// </summary>
    /// <remarks>
    /// rANS estimates are exact table sizes plus the ideal code length (rANS adds well under 0.1%). Context mixing
    /// cannot be estimated from counts; its estimate is the adaptive order-1 code length (conditional entropy plus a
    /// learning cost of ½·log2(n) bits per parameter), which it beats in practice, so the choice is conservative.
    /// </remarks>
    public static (EntropyMethod Method, long EstimatedBytes) Choose(ReadOnlySpan<byte> symbols, CompressionEffort effort, int alphabetBits, int rowLength)
    {
        ValidateParameters(alphabetBits, rowLength);
        ValidateSymbols(symbols, alphabetBits);
        if (symbols.IsEmpty)
        {
            return (EntropyMethod.RansOrder0, 0);
        }

        RansModel order0 = RansCodec.BuildModel(symbols, order1: false, alphabetBits);
        (EntropyMethod Method, long EstimatedBytes) best = (EntropyMethod.RansOrder0, order0.EstimatedBytes);
        if (effort == CompressionEffort.Fast)
        {
            return best;
        }

        int size = 1 << alphabetBits;
        uint[] pairs = ArrayPool<uint>.Shared.Rent(size * size);
        try
        {
            Span<uint> pairSpan = pairs.AsSpan(0, size * size);
            RansCodec.CountOrder1(symbols, alphabetBits, pairSpan);
            RansModel order1 = RansModel.BuildOrder1(pairSpan, alphabetBits);
            if (order1.EstimatedBytes < best.EstimatedBytes)
            {
                best = (EntropyMethod.RansOrder1, order1.EstimatedBytes);
            }

            if (effort == CompressionEffort.Max)
            {
                long mixing = EstimateAdaptiveOrder1Bytes(pairSpan, alphabetBits);
                if (mixing < best.EstimatedBytes)
                {
                    best = (EntropyMethod.ContextMixing, mixing);
                }
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(pairs);
        }

        return best;
    }

    private static RowClassModel BuildRowClasses(ReadOnlySpan<byte> symbols, int alphabetBits, int rowLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowLength, 1);
        return RowClassModel.Build(symbols, alphabetBits, rowLength)
            ?? throw new ArgumentException($"row classes need at least two rows of {rowLength} symbols (and rows no shorter than the alphabet)", nameof(symbols));
    }

    // Σ over contexts of n·H(context) + (distinct symbols − 1)/2 · log2(n) bits, in integer Q16 arithmetic.
    private static long EstimateAdaptiveOrder1Bytes(ReadOnlySpan<uint> pairs, int alphabetBits)
    {
        int size = 1 << alphabetBits;
        long bitsQ16 = 0;
        for (int c = 0; c < size; c++)
        {
            ReadOnlySpan<uint> row = pairs.Slice(c * size, size);
            long total = 0;
            int distinct = 0;
            foreach (uint x in row)
            {
                total += x;
                distinct += x != 0 ? 1 : 0;
            }

            if (total == 0)
            {
                continue;
            }

            int logTotal = FixedLog2.Log2Q16((ulong)total);
            foreach (uint x in row)
            {
                if (x != 0)
                {
                    bitsQ16 += x * (long)(logTotal - FixedLog2.Log2Q16(x));
                }
            }

            bitsQ16 += (distinct - 1) * (long)logTotal / 2;
        }

        return 1 + 4 + ((bitsQ16 >> 16) + 7) / 8;
    }

    private static void ValidateParameters(int alphabetBits, int rowLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(alphabetBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alphabetBits, 8);
        ArgumentOutOfRangeException.ThrowIfNegative(rowLength);
    }

    private static void ValidateSymbols(ReadOnlySpan<byte> symbols, int alphabetBits)
    {
        if (alphabetBits < 8)
        {
            int index = symbols.IndexOfAnyInRange((byte)(1 << alphabetBits), (byte)255);
            if (index >= 0)
            {
                throw new ArgumentException(
                    $"symbol {symbols[index]} at index {index} does not fit {alphabetBits} bits", nameof(symbols));
            }
        }
    }
}
