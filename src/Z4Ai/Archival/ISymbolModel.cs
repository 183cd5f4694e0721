namespace Z4Ai.Archival;

/// <summary>
/// A model for a stream of symbols (bytes), coded most significant bit first through its <see cref="IBitModel"/>
/// side. It names itself with a model id, version and settings that a frame records, so a decoder can rebuild the
/// very same model or refuse the frame.
/// </summary>
internal interface ISymbolModel : IBitModel
{
    /// <summary>What this model is: id, version and the settings it was built with.</summary>
    ModelDescriptor Descriptor { get; }

    /// <summary>
    /// Trains the model on <paramref name="symbols"/> without coding them (priming with a shipped text, or
    /// continuing a context); the encoder and decoder must call it with the same bytes.
    /// </summary>
    void Learn(ReadOnlySpan<byte> symbols);

    /// <summary>
    /// A deep copy in the same state, which then evolves independently (a primed model is cloned per block
    /// instead of being primed again).
    /// </summary>
    ISymbolModel Clone();
}
