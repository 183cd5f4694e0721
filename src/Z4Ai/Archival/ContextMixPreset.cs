namespace Z4Ai.Archival;

/// <summary>
/// What a preset means for <see cref="ContextMixModel"/>: its hashed contexts (per model version) and learning
/// rates. These values are part of the model version; changing any of them requires a new model version.
/// </summary>
internal sealed class ContextMixPreset
{
    private static readonly ContextMixPreset ProsePreset = new(
        [ContextKind.Order2, ContextKind.Order3, ContextKind.Order4, ContextKind.Order6, ContextKind.Word, ContextKind.Column],
        matchMinLength: 7,
        mixerRate: 10,
        stateLimit: 1023,
        wordDigits: false);

    private static readonly ContextMixPreset CodePreset = new(
        [ContextKind.Order2, ContextKind.Order3, ContextKind.Order4, ContextKind.Order6, ContextKind.Word,
         ContextKind.Indent, ContextKind.Bracket],
        matchMinLength: 6,
        mixerRate: 10,
        stateLimit: 1023,
        wordDigits: true);

    private static readonly ContextMixPreset JsonPreset = new(
        [ContextKind.Order2, ContextKind.Order3, ContextKind.Order4, ContextKind.Order6, ContextKind.Word,
         ContextKind.Column, ContextKind.Key],
        matchMinLength: 8,
        mixerRate: 10,
        stateLimit: 1023,
        wordDigits: true);

    private static readonly ContextMixPreset BinaryPreset = new(
        [ContextKind.Order2, ContextKind.Order3, ContextKind.Order4, ContextKind.Order6,
         ContextKind.Skip1, ContextKind.Skip2, ContextKind.Stride4],
        matchMinLength: 8,
        mixerRate: 10,
        stateLimit: 1023,
        wordDigits: true,
        text: false);

    private ContextMixPreset(ContextKind[] contexts, int matchMinLength, int mixerRate, int stateLimit, bool wordDigits, bool text = true)
    {
        Contexts = contexts;
        ContextsV2 = text ? [.. contexts, ContextKind.WordPair] : contexts;
        MatchMinLength = matchMinLength;
        MixerRate = mixerRate;
        StateLimit = stateLimit;
        WordDigits = wordDigits;
    }

    /// <summary>The hashed contexts of model version 1, in input order.</summary>
    public ContextKind[] Contexts { get; }

    /// <summary>
    /// The hashed contexts of model <paramref name="version"/>: version 2 appends a word-pair context to the text
    /// presets (the binary preset is unchanged).
    /// </summary>
    public ContextKind[] ContextsFor(byte version) => version >= 2 ? ContextsV2 : Contexts;

    /// <summary>The hashed contexts of model version 2, in input order.</summary>
    public ContextKind[] ContextsV2 { get; }

    /// <summary>The shortest history match the match model follows.</summary>
    public int MatchMinLength { get; }

    /// <summary>The mixers' error multiplier.</summary>
    public int MixerRate { get; }

    /// <summary>The visit count at which state maps stop slowing their adaptation.</summary>
    public int StateLimit { get; }

    /// <summary>Whether digits and underscores count as word characters (identifiers, numbers).</summary>
    public bool WordDigits { get; }

    /// <summary>The definition of <paramref name="preset"/> (a concrete preset, not Auto).</summary>
    public static ContextMixPreset Get(ArchivePreset preset) => preset switch
    {
        ArchivePreset.Prose => ProsePreset,
        ArchivePreset.Code => CodePreset,
        ArchivePreset.Json => JsonPreset,
        ArchivePreset.Binary => BinaryPreset,
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "a concrete preset is required"),
    };
}
