namespace Z4Ai;

/// <summary>
/// How a model delta stores one tensor of the target model. The numeric values are stored in model-delta files:
/// never renumber, only add.
/// </summary>
public enum ModelDeltaTensorMode : byte
{
    /// <summary>Compressed on its own, without the base model.</summary>
    Scratch = 0,

    /// <summary>Stored as buffer deltas against a base tensor (per chunk: copy, XOR, subtract or scratch).</summary>
    Delta = 1,

    /// <summary>Byte for byte equal to a base tensor: nothing is stored but the reference.</summary>
    Copy = 2,
}
