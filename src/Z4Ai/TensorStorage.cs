namespace Z4Ai;

/// <summary>How a registry version stores one tensor.</summary>
public enum TensorStorage
{
    /// <summary>The bytes were already in the registry (the same tensor in any version): nothing new is stored.</summary>
    Copy = 0,
    /// <summary>A new object compressed on its own (chunked codec frames).</summary>
    Scratch = 1,
    /// <summary>A new object stored as a lossless delta against the same tensor in the parent version.</summary>
    DeltaFromParent = 2,
    /// <summary>A new object stored as a lossless delta against the same tensor in the base version.</summary>
    DeltaFromBase = 3,
}
