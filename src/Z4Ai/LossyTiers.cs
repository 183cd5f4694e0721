using System.Diagnostics.CodeAnalysis;

namespace Z4Ai;

/// <summary>The command-line and certificate names of <see cref="LossyTier"/> values.</summary>
public static class LossyTiers
{
    /// <summary>The name of a tier: <c>lossless</c>, <c>int8</c>, <c>int4</c>, <c>sparse</c> or <c>1bit</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined tier.</exception>
    public static string GetName(this LossyTier tier) => tier switch
    {
        LossyTier.Lossless => "lossless",
        LossyTier.Int8 => "int8",
        LossyTier.Int4 => "int4",
        LossyTier.Sparse => "sparse",
        LossyTier.OneBit => "1bit",
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "unknown lossy tier"),
    };

    /// <summary>Parses a tier name (case-insensitive); <c>onebit</c> is accepted for <c>1bit</c>.</summary>
    public static bool TryParse(string? name, [NotNullWhen(true)] out LossyTier? tier)
    {
        tier = name?.Trim().ToUpperInvariant() switch
        {
            "LOSSLESS" => LossyTier.Lossless,
            "INT8" => LossyTier.Int8,
            "INT4" => LossyTier.Int4,
            "SPARSE" => LossyTier.Sparse,
            "1BIT" or "ONEBIT" => LossyTier.OneBit,
            _ => null,
        };
        return tier is not null;
    }

    /// <summary>Parses a tier name, throwing on an unknown one.</summary>
    /// <exception cref="ArgumentException">The name is not a tier.</exception>
    public static LossyTier Parse(string name) =>
        TryParse(name, out LossyTier? tier)
            ? tier.Value
            : throw new ArgumentException($"unknown tier '{name}'; expected lossless, int8, int4, sparse or 1bit", nameof(name));
}
