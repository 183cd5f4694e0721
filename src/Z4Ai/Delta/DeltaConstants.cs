namespace Z4Ai.Delta;

/// <summary>The fixed values of the delta frame (docs/delta-format.md).</summary>
internal static class DeltaConstants
{
    /// <summary>The current (and only) format version.</summary>
    public const byte Version = 1;

    /// <summary>The first four bytes of every delta frame: ASCII "Z4AD".</summary>
    public static ReadOnlySpan<byte> Magic => "Z4AD"u8;
}
