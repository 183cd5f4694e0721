namespace Z4Ai.Archival;

/// <summary>
/// A bit predictor: the arithmetic coder asks for the probability that the next bit is 1, codes the bit, then
/// tells the model what it was. Every model must be deterministic: the same bits in the same order give the same
/// predictions on every machine, or a frame cannot be decoded.
/// </summary>
internal interface IBitModel
{
    /// <summary>The probability that the next bit is 1, in 1..4095 (of 4096).</summary>
    int Predict();

    /// <summary>Learns the bit that was actually coded after the last <see cref="Predict"/>.</summary>
    void Update(int bit);
}
