namespace Z4Ai.Format;

/// <summary>What <see cref="ContainerWriter"/> did with one tensor.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="RawLength">The tensor's raw byte length.</param>
/// <param name="StoredLength">Frame bytes this tensor added to the file (0 when every chunk was already stored).</param>
/// <param name="Deduplicated">True when the whole tensor repeats an earlier one and is stored as a reference to it.</param>
/// <param name="Codecs">The distinct codec names of the tensor's chunks, in chunk order of first use.</param>
internal sealed record ContainerTensorStats(string Name, long RawLength, long StoredLength, bool Deduplicated, IReadOnlyList<string> Codecs)
{
    /// <summary>The SHA-256 of the tensor's raw bytes.</summary>
    public byte[] Sha256 { get; init; } = [];

    /// <summary>The earlier tensor this one duplicates, or null.</summary>
    public string? DuplicateOf { get; init; }
}
