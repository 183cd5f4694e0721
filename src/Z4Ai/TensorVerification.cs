namespace Z4Ai;

/// <summary>What a tensor handed out by an <see cref="ITensorSource"/> was checked against.</summary>
public enum TensorVerification
{
    /// <summary>
    /// Nothing: a plain <c>.safetensors</c> file records no digests, and no expected digest was given for this tensor
    /// (see <see cref="TensorSourceOptions.ExpectedDigests"/>). The bytes are exactly what the file holds.
    /// </summary>
    None,

    /// <summary>The SHA-256 the container recorded when the tensor was written.</summary>
    RecordedDigest,

    /// <summary>The SHA-256 the caller supplied in <see cref="TensorSourceOptions.ExpectedDigests"/>.</summary>
    ExpectedDigest,
}
