namespace Z4Ai.Codecs;

/// <summary>
/// The recipe of a frame, stored in its first byte. Values are part of the file format: never renumber, only add.
/// </summary>
internal enum CodecId : byte
{
    /// <summary>The raw bytes, unchanged (chosen when nothing else is smaller).</summary>
    Stored = 0,
    /// <summary>zstd over the raw bytes.</summary>
    Zstd = 1,
    /// <summary>Byte-plane split, then each plane zstd-compressed or stored, whichever is smaller.</summary>
    PlanesZstd = 2,
    /// <summary>A recipe tree: transforms and entropy coders, nested, each node self-describing (see <see cref="RecipeKind"/>).</summary>
    Recipe = 3,
}

/// <summary>Human-readable names of codec ids, for reports.</summary>
internal static class CodecNames
{
    public static string Get(byte id) => (CodecId)id switch
    {
        CodecId.Stored => "stored",
        CodecId.Zstd => "zstd",
        CodecId.PlanesZstd => "planes+zstd",
        CodecId.Recipe => "recipe",
        _ => $"codec-{id}",
    };
}
