namespace Z4Ai;

/// <summary>The on-disk layout a file uses.</summary>
public enum StorageFormat
{
    /// <summary>The compressed, verified Z4Ai container (<c>.z4ai</c>).</summary>
    Z4Ai = 0,
    /// <summary>A plain <c>.safetensors</c> file, byte-compatible with the reference implementation.</summary>
    SafeTensors = 1,
}
