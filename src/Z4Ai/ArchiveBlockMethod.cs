namespace Z4Ai;

/// <summary>How one block of an archive is stored. The numeric values are the bytes in the frame.</summary>
public enum ArchiveBlockMethod
{
    /// <summary>The bytes as they are.</summary>
    Stored = 1,

    /// <summary>A zstd frame.</summary>
    Zstd = 2,

    /// <summary>Arithmetic-coded with the archive's model (context mixing), optionally primed.</summary>
    Model = 3,
}
