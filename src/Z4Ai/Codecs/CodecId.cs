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
}

/// <summary>Human-readable names of codec ids, for reports.</summary>
internal static class CodecNames
{
    public static string Get(byte id) => Enum.IsDefined((CodecId)id) ? ((CodecId)id).ToString().ToLowerInvariant() switch
    {
        "planeszstd" => "planes+zstd",
        string s => s,
    }
    : $"codec-{id}";
}
