using Z4Ai.Entropy;

namespace Z4Ai.Codecs;

/// <summary>
/// What each <see cref="CompressionEffort"/> lets the encoder try. <c>Fast</c> keeps decoding cheap (order-0 rANS,
/// zstd level 1, no context mixing); <c>Default</c> adds order-1 rANS where it saves at least 3% and context mixing
/// on streams of 4 Ki to 64 Ki symbols, where its slow decode costs little in absolute time; <c>Max</c> tries everything and keeps the
/// smallest whatever it costs to decode.
/// </summary>
internal sealed class EffortProfile
{
    /// <summary>The most row classes <see cref="ForFastDecode"/> at <c>Default</c> fits (see <see cref="MaxRowClasses"/>).</summary>
    public const int FastDecodeRowClasses = 4;

    /// <summary>The longest stream <c>Default</c> codes with context mixing (symbols).</summary>
    public const int DefaultContextMixingLimit = 64 * 1024;

    private static readonly EffortProfile s_fast = new()
    {
        Effort = CompressionEffort.Fast,
        ZstdLevel = 1,
        SmallStreamZstdLevel = 3,
        EntropyGainPercent = 3,
        AllowOrder1 = false,
        ContextMixingLimit = 0,
        TrustTransforms = true,
    };

    private static readonly EffortProfile s_default = new()
    {
        Effort = CompressionEffort.Default,
        ZstdLevel = 3,
        SmallStreamZstdLevel = 19,
        EntropyGainPercent = 1,
        AllowOrder1 = true,
        Order1GainPercent = 3,
        AllowRowClasses = true,
        AllowExponentClasses = true,
        ExponentClassSampleStride = 4,
        MaxExponentRowClasses = 2,
        ContextMixingLimit = DefaultContextMixingLimit,
        ContextMixingMinimum = 4096,
        ContextMixingGainPercent = 3,
        TrustTransforms = true,
        ArchiveModelOnBytesLimit = DefaultContextMixingLimit,
    };

    private static readonly EffortProfile s_max = new()
    {
        Effort = CompressionEffort.Max,
        ZstdLevel = 19,
        SmallStreamZstdLevel = 19,
        EntropyGainPercent = 0,
        AllowOrder1 = true,
        Order1GainPercent = 0,
        AllowRowClasses = true,
        AllowExponentClasses = true,
        ExponentClassSampleStride = 1,
        ContextMixingLimit = int.MaxValue,
        ContextMixingGainPercent = 0,
        TrustTransforms = false,
        AlwaysZstd = true,
        ArchiveModelOnBytesLimit = int.MaxValue,
    };

    // Archive is Max plus the archival context model on symbol streams: it must never choose worse than Max.
    private static readonly EffortProfile s_archive = s_max.WithArchiveModel();

    // Default for streams inside a format that promises gigabyte-per-second decoding (delta chunks).
    private static readonly EffortProfile s_defaultFastDecode = s_default.WithoutModelCoders();

    private EffortProfile()
    {
    }

    private EffortProfile WithoutModelCoders()
    {
        var copy = (EffortProfile)MemberwiseClone();
        copy.ContextMixingLimit = 0;
        copy.ArchiveModelOnBytesLimit = 0;
        copy.MaxRowClasses = FastDecodeRowClasses;
        copy.AllowExponentClasses = false;
        copy.WideRansMinimumBytes = WideRansThreshold;
        return copy;
    }

    private EffortProfile WithArchiveModel()
    {
        var copy = (EffortProfile)MemberwiseClone();
        copy.Effort = CompressionEffort.Archive;
        copy.TryArchiveModel = true;
        return copy;
    }

    /// <summary>The effort this profile implements.</summary>
    public CompressionEffort Effort { get; private set; }

    /// <summary>The zstd level of zstd leaves on long streams.</summary>
    public int ZstdLevel { get; private init; }

    /// <summary>The zstd level on streams of at most <see cref="SmallStreamLength"/> bytes, where even a high
    /// level costs little time (structured tables such as an STFT basis gain several times over level 3).</summary>
    public int SmallStreamZstdLevel { get; private init; }

    /// <summary>The longest stream compressed at <see cref="SmallStreamZstdLevel"/>.</summary>
    public const int SmallStreamLength = 1024 * 1024;

    /// <summary>The zstd level for a stream of <paramref name="length"/> bytes.</summary>
    public int ZstdLevelFor(int length) => length <= SmallStreamLength ? SmallStreamZstdLevel : ZstdLevel;

    /// <summary>Whether zstd leaves may be tried at all.</summary>
    public bool AllowZstd { get; private init; } = true;

    /// <summary>Whether zstd is run on every stream instead of only where a fast sample suggests it may win.</summary>
    public bool AlwaysZstd { get; private init; }

    /// <summary>The least saving (percent of the stored size) for which an entropy coder replaces stored bytes:
    /// a near-random plane decodes much faster as a copy.</summary>
    public int EntropyGainPercent { get; private init; }

    /// <summary>Whether order-1 rANS may be chosen.</summary>
    public bool AllowOrder1 { get; private init; }

    /// <summary>Whether row-class rANS may be chosen (on streams whose caller names rows, such as palette indices).</summary>
    public bool AllowRowClasses { get; private init; }

    /// <summary>Whether a float tensor's top sign+mantissa plane may be coded one stream per class of exponents
    /// (<see cref="RecipeKind.ClassedFields"/>), which decodes with one more pass over the elements.</summary>
    public bool AllowExponentClasses { get; private set; }

    /// <summary>Every how many elements the exponent-class planner samples (1 = all of them).</summary>
    public int ExponentClassSampleStride { get; private init; } = 1;

    /// <summary>The most classes a row-class plan may fit. Every class adds a 16 KiB decode table the decoder switches
    /// to at every row, and the decode slows as classes are added (<c>row-class-probe</c>, docs/benchmarks.md).</summary>
    public int MaxRowClasses { get; private set; } = RowClassModel.MaxClasses;

    /// <summary>The most row classes an exponent stream may fit: at <c>Default</c> two, which keep most of the gain of
    /// sixteen at a far lower compress cost (docs/benchmarks.md, "Exponent classes").</summary>
    public int MaxExponentRowClasses { get; private init; } = RowClassModel.MaxClasses;

    /// <summary>
    /// The estimated payload from which order-0 and row-class rANS streams are written with 64 interleaved states
    /// (<see cref="EntropyMethod.RansOrder0Wide"/>, <see cref="EntropyMethod.RansRowClassesWide"/>), which decode
    /// several times faster with vector instructions for 240 more bytes of states; <see cref="int.MaxValue"/> (never)
    /// except in <see cref="ForFastDecode"/>.
    /// </summary>
    public int WideRansMinimumBytes { get; private set; } = int.MaxValue;

    /// <summary>The <see cref="WideRansMinimumBytes"/> of <see cref="ForFastDecode"/>: from 64 KiB the extra states
    /// cost at most 0.4%.</summary>
    public const int WideRansThreshold = 64 * 1024;

    /// <summary>The least saving (percent) for which order 1 replaces order 0 (order 1 decodes slower).</summary>
    public int Order1GainPercent { get; private init; }

    /// <summary>The longest stream (symbols) coded with context mixing; 0 for never.</summary>
    public int ContextMixingLimit { get; private set; }

    /// <summary>The shortest stream (symbols) coded with context mixing: its model tables cost a fixed setup on every
    /// decode (about half a megabyte of counters), which a few bytes saved on a tiny stream do not repay.</summary>
    public int ContextMixingMinimum { get; private init; }

    /// <summary>The least saving (percent) for which context mixing replaces rANS.</summary>
    public int ContextMixingGainPercent { get; private init; }

    /// <summary>Whether a transform that is clearly good (a palette at a third of the input) is taken without also
    /// encoding the dense split to compare.</summary>
    public bool TrustTransforms { get; private init; }

    /// <summary>Whether symbol streams are also coded with the archival context-mixing model (<see cref="ArchiveStreams"/>).</summary>
    public bool TryArchiveModel { get; private set; }

    /// <summary>
    /// The longest U8/I8 tensor stream (bytes) also coded with the archival context-mixing model (0: never). Quantised
    /// weights are bytes whose shape no table-based coder learns as fast; the model decodes at about a megabyte per
    /// second, so <c>Default</c> spends it only on tensors of up to 64 KiB.
    /// </summary>
    public int ArchiveModelOnBytesLimit { get; private set; }

    /// <summary>Whether the raw bytes of a U8/I8 tensor of <paramref name="length"/> bytes are also tried with the archival model.</summary>
    public bool UseArchiveModelOnBytes(int length) => length >= ArchiveStreams.MinByteTensorLength && length <= ArchiveModelOnBytesLimit;

    /// <summary>The profile of an effort level.</summary>
    public static EffortProfile For(CompressionEffort effort) => effort switch
    {
        CompressionEffort.Fast => s_fast,
        CompressionEffort.Max => s_max,
        CompressionEffort.Archive => s_archive,
        _ => s_default,
    };

    /// <summary>
    /// The profile of an effort level for data that must decode at memory speed, such as a delta's transformed chunks:
    /// <c>Default</c> without context mixing and the archival model, which decode at megabytes per second (on the
    /// delta benchmark's every-value-moves row they saved 0.21% of the bytes, docs/benchmarks.md), and with at most
    /// <see cref="FastDecodeRowClasses"/> row classes (on that row 0.8% larger than 16 classes; on the
    /// <c>row-class-probe</c> stream 0.7% larger and 16-18% faster to decode). <c>Fast</c> never uses them; <c>Max</c> and <c>Archive</c> keep
    /// them, smallest whatever the cost.
    /// </summary>
    public static EffortProfile ForFastDecode(CompressionEffort effort) => effort == CompressionEffort.Default ? s_defaultFastDecode : For(effort);

    /// <summary>Whether a stream of <paramref name="symbols"/> symbols should also be tried with context mixing.</summary>
    public bool UseContextMixing(int symbols) => symbols <= ContextMixingLimit && symbols >= ContextMixingMinimum;
}
