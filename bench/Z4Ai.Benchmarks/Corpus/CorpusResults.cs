namespace Z4Ai.Benchmarks.Corpus;

/// <summary>Z4Ai on one case: container size and the best in-process times.</summary>
/// <param name="StoredBytes">The container's size.</param>
/// <param name="CompressSeconds">Fastest compression (plain file bytes to container bytes, SHA-256 included).</param>
/// <param name="DecompressSeconds">Fastest restore of the original file with every tensor verified.</param>
/// <param name="Codecs">The codec recipes the container reports, largest share first, and the deduplicated count.</param>
internal sealed record Z4AiResult(long StoredBytes, double CompressSeconds, double DecompressSeconds, string Codecs);

/// <summary>Everything measured on one case.</summary>
internal sealed record CaseResult(
    string Name,
    bool Real,
    string Description,
    long FileBytes,
    double? Floor,
    Z4AiResult Z4Ai,
    IReadOnlyList<ExternalResult?> External,
    OrderZeroBounds Bounds,
    long HeaderBytes)
{
    /// <summary>For a quantised case, the information bound of its codes and scales.</summary>
    public CodeBound? Codes { get; init; }

    /// <summary>The largest ratio the quantised case's codes and scales allow, or null for any other case.</summary>
    public double? CodeBoundRatio => Codes is CodeBound b ? b.Ratio(FileBytes, HeaderBytes) : null;

    /// <summary>The Z4Ai ratio: plain file bytes per container byte.</summary>
    public double Z4AiRatio => (double)FileBytes / Z4Ai.StoredBytes;

    /// <summary>File bytes over (header bytes + order-0 size of the byte planes).</summary>
    public double PlaneBoundRatio => FileBytes / (HeaderBytes + (Bounds.PlaneBits / 8));

    /// <summary>File bytes over (header bytes + order-0 size of the float fields).</summary>
    public double FieldBoundRatio => FileBytes / (HeaderBytes + (Bounds.FieldBits / 8));

    /// <summary>The better (higher) of the two order-0 bounds: beating it takes more than order-0 coding.</summary>
    public double OrderZeroRatio => Math.Max(PlaneBoundRatio, FieldBoundRatio);

    /// <summary>The ratio of an external compressor, or null when it did not run.</summary>
    public double? ExternalRatio(int index) => External[index] is ExternalResult r ? (double)FileBytes / r.CompressedBytes : null;
}
