namespace Z4Ai;

/// <summary>
/// What went wrong in a file or frame. The first group mirrors the reference safetensors error variants one for
/// one, so tests can assert the same kind the reference gives; the rest cover the Z4Ai formats.
/// </summary>
public enum Z4AiErrorKind
{
    /// <summary>The input is shorter than the 8-byte header length prefix.</summary>
    HeaderTooSmall,
    /// <summary>The declared header length is above the limit (100,000,000 bytes by default).</summary>
    HeaderTooLarge,
    /// <summary>The declared header length runs past the end of the input.</summary>
    InvalidHeaderLength,
    /// <summary>The header bytes are not valid UTF-8.</summary>
    InvalidHeaderUtf8,
    /// <summary>The header is not the JSON the format requires (syntax, types, unknown dtype, missing field).</summary>
    InvalidHeaderDeserialization,
    /// <summary>Tensor offsets do not tile the data buffer (gap, overlap, or end before begin).</summary>
    InvalidOffset,
    /// <summary>The element or bit count of a shape overflows 64 bits.</summary>
    ValidationOverflow,
    /// <summary>The bit size of a tensor is not a whole number of bytes.</summary>
    MisalignedSlice,
    /// <summary>A tensor's byte range does not match its dtype and shape.</summary>
    TensorInvalidInfo,
    /// <summary>The data buffer is not exactly covered by the tensors (trailing or missing bytes).</summary>
    MetadataIncompleteBuffer,
    /// <summary>A tensor's data length does not match its dtype and shape.</summary>
    InvalidTensorView,
    /// <summary>The requested tensor is not in the file.</summary>
    TensorNotFound,
    /// <summary>A slice request is out of range.</summary>
    InvalidSlice,
    /// <summary>The same tensor name appears twice (the reference keeps the last one; Z4Ai rejects the file).</summary>
    DuplicateKey,
    /// <summary>A tensor is named <c>__metadata__</c>, which the format reserves.</summary>
    ReservedName,
    /// <summary>A Z4Ai container, frame or manifest is malformed: bad magic, bad index, inconsistent lengths.</summary>
    InvalidContainer,
    /// <summary>The file was written by a newer, unknown format version.</summary>
    UnsupportedVersion,
    /// <summary>A compressed frame is malformed or its decoded size does not match the declared size.</summary>
    CorruptFrame,
    /// <summary>A size declared by the input exceeds a configured safety limit.</summary>
    LimitExceeded,
    /// <summary>A delta was applied to a reference other than the one it was made against.</summary>
    ReferenceMismatch,
    /// <summary>An I/O operation failed; the inner exception has the details.</summary>
    Io,
    /// <summary>A model registry has no version of the requested name.</summary>
    VersionNotFound,
    /// <summary>
    /// A model registry refused a change that conflicts with its state: the version name is taken (perhaps by a
    /// concurrent writer), other versions depend on the one to remove, or another process holds the registry lock.
    /// </summary>
    Conflict,
    /// <summary>A fidelity certificate does not match the lossy delta it is presented with, or is inconsistent.</summary>
    CertificateMismatch,
    /// <summary>A lossy result has no passing fidelity certificate and storing it was not forced.</summary>
    CertificationRequired,
    /// <summary>An evaluator failed: it crashed, printed something that is not the expected JSON, or its data is missing.</summary>
    EvaluatorFailed,
}
