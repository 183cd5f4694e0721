namespace Z4Ai;

/// <summary>What an archive declares, read by <see cref="ArchiveCodec.Inspect"/> without decoding it.</summary>
public sealed class ArchiveInfo
{
    internal ArchiveInfo(
        long length,
        string sha256,
        long archiveLength,
        int blockSize,
        string? model,
        ArchivePreset? preset,
        string? primer,
        int storedBlocks,
        int zstdBlocks,
        int modelBlocks)
    {
        Length = length;
        Sha256 = sha256;
        ArchiveLength = archiveLength;
        BlockSize = blockSize;
        Model = model;
        Preset = preset;
        Primer = primer;
        StoredBlocks = storedBlocks;
        ZstdBlocks = zstdBlocks;
        ModelBlocks = modelBlocks;
    }

    /// <summary>The length of the original data.</summary>
    public long Length { get; }

    /// <summary>The SHA-256 of the original data, lowercase hex (checked on every decode).</summary>
    public string Sha256 { get; }

    /// <summary>The length of the archive itself.</summary>
    public long ArchiveLength { get; }

    /// <summary>The raw bytes per block.</summary>
    public int BlockSize { get; }

    /// <summary>The model the model blocks need, e.g. <c>context-mix v1 (prose)</c>, or null when none is used.</summary>
    public string? Model { get; }

    /// <summary>The model's preset, or null when no model is used.</summary>
    public ArchivePreset? Preset { get; }

    /// <summary>The primer the model was trained on first, e.g. <c>prose-v3</c>, or null.</summary>
    public string? Primer { get; }

    /// <summary>The number of blocks stored as they are.</summary>
    public int StoredBlocks { get; }

    /// <summary>The number of blocks that zstd coded smallest.</summary>
    public int ZstdBlocks { get; }

    /// <summary>The number of blocks that the model coded smallest.</summary>
    public int ModelBlocks { get; }

    /// <summary>The number of blocks.</summary>
    public int Blocks => StoredBlocks + ZstdBlocks + ModelBlocks;
}
