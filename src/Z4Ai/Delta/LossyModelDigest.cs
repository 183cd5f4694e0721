using Z4Ai.Integrity;

namespace Z4Ai.Delta;

/// <summary>One tensor's identity as the lossy tier records it (shape as a read-only list).</summary>
internal readonly record struct LossyDigestEntry(string Name, DType DType, IReadOnlyList<long> Shape, long Length, Sha256Digest Digest);

/// <summary>
/// The identity of a whole model for lossy deltas and certificates: exactly <see cref="ModelDigest"/> (the
/// model-delta identity of docs/delta-format.md), so a lossy delta names its base, target and reconstruction the same
/// way lossless deltas and the registry do.
/// </summary>
internal static class LossyModelDigest
{
    public static Sha256Digest Compute(IEnumerable<LossyDigestEntry> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return ModelDigest.Compute(tensors.Select(t => new ModelTensor(t.Name, t.DType, t.Shape.ToArray(), t.Length, t.Digest)));
    }
}
