using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// The settings of a <see cref="ContextMixModel"/> as a frame records them: the preset (which fixes the context
/// set and learning rates for this model version) and the sizes of the two hashed tables.
/// </summary>
/// <remarks>Serialized as three bytes: preset, log2 of the context table bytes, log2 of the match table entries.</remarks>
internal readonly record struct ContextMixSettings(ArchivePreset Preset, int TableBits, int MatchBits)
{
    /// <summary>The serialized length.</summary>
    public const int Length = 3;

    /// <summary>The smallest context table: 64 KiB.</summary>
    public const int MinTableBits = 16;

    /// <summary>The largest context table: 64 MiB.</summary>
    public const int MaxTableBits = 26;

    /// <summary>The smallest match table: 4096 entries.</summary>
    public const int MinMatchBits = 12;

    /// <summary>The largest match table: 2^24 entries (64 MiB).</summary>
    public const int MaxMatchBits = 24;

    /// <summary>
    /// Sizes the tables for <paramref name="bytes"/> bytes of history (primer plus block): about 24 table bytes
    /// per input byte, and one match entry per input byte, within the bounds, capped by
    /// <paramref name="maxTableBits"/>.
    /// </summary>
    public static ContextMixSettings ForLength(ArchivePreset preset, long bytes, int maxTableBits = 24)
    {
        int tableBits = Math.Clamp(CeilLog2(bytes * 24), MinTableBits, Math.Clamp(maxTableBits, MinTableBits, MaxTableBits));
        int matchBits = Math.Clamp(CeilLog2(bytes) - 1, MinMatchBits, Math.Min(MaxMatchBits, tableBits - 2));
        return new ContextMixSettings(preset, tableBits, matchBits);
    }

    /// <summary>
    /// Checks that the tables are no larger than <paramref name="bytes"/> bytes of history could justify (twice
    /// what <see cref="ForLength"/> picks, or the minimum), so a forged frame cannot make a decoder allocate far
    /// more memory than the data it claims to hold.
    /// </summary>
    public void CheckPlausible(long bytes)
    {
        int tableLimit = Math.Max(MinTableBits, CeilLog2(bytes * 48));
        int matchLimit = Math.Max(MinMatchBits, CeilLog2(bytes) + 1);
        if (TableBits > tableLimit || MatchBits > matchLimit)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.LimitExceeded,
                $"context-mixing tables of 2^{TableBits} bytes and 2^{MatchBits} entries are far larger than {bytes} bytes of history need");
        }
    }

    /// <summary>Writes the three setting bytes.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = (byte)Preset;
        destination[1] = (byte)TableBits;
        destination[2] = (byte)MatchBits;
    }

    /// <summary>Reads and validates the setting bytes of a frame.</summary>
    public static ContextMixSettings Read(ReadOnlySpan<byte> settings)
    {
        if (settings.Length != Length)
        {
            ThrowHelper.CorruptFrame($"context-mixing model settings are {settings.Length} bytes, expected {Length}");
        }

        var preset = (ArchivePreset)settings[0];
        if (preset is < ArchivePreset.Prose or > ArchivePreset.Binary)
        {
            ThrowHelper.CorruptFrame($"context-mixing model preset {settings[0]} is unknown (expected 1 to 4)");
        }

        if (settings[1] is < MinTableBits or > MaxTableBits || settings[2] is < MinMatchBits or > MaxMatchBits)
        {
            ThrowHelper.CorruptFrame(
                $"context-mixing model table sizes 2^{settings[1]} bytes and 2^{settings[2]} entries are outside 2^{MinTableBits}..2^{MaxTableBits} and 2^{MinMatchBits}..2^{MaxMatchBits}");
        }

        return new ContextMixSettings(preset, settings[1], settings[2]);
    }

    private static int CeilLog2(long value)
    {
        int bits = 0;
        while (bits < 62 && (1L << bits) < value)
        {
            bits++;
        }

        return bits;
    }
}
