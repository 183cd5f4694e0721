namespace Z4Ai.Transforms;

/// <summary>
/// The structure transform a frame applies before entropy coding. The values are part of the file format: never
/// renumber, only add.
/// </summary>
internal enum TransformId : byte
{
    /// <summary>No transform: the raw bytes go to the entropy coder.</summary>
    None = 0,

    /// <summary>Dead low bits dropped, or floats narrowed to a smaller exact format (<see cref="DeadBits"/>).</summary>
    DeadBits = 1,

    /// <summary>Sorted codebook plus bit-packed indices, global or per group (<see cref="Palette"/>).</summary>
    Palette = 2,

    /// <summary>Positions of non-zero elements plus the dense non-zero elements (<see cref="ZeroMask"/>).</summary>
    ZeroMask = 3,

    /// <summary>Integers as frame-of-reference or delta, bit-packed (<see cref="IntPack"/>).</summary>
    IntPack = 4,

    /// <summary>Bytes that are all 0 or 1, packed one bit each (<see cref="BoolPack"/>).</summary>
    BoolPack = 5,
}
