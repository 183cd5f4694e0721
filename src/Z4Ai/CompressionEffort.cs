namespace Z4Ai;

/// <summary>How hard the codec works. Every level is lossless and never expands beyond a small fixed header.</summary>
public enum CompressionEffort
{
    /// <summary>Decode speed first: only the cheapest transforms.</summary>
    Fast = 0,
    /// <summary>A balance of ratio and speed.</summary>
    Default = 1,
    /// <summary>The smallest output; encoding may be slow.</summary>
    Max = 2,
}
