using Z4Ai.Certification;
using Z4Ai.Format;

namespace Z4Ai;

/// <summary>
/// Lossy deltas between a fine-tune (or checkpoint) and its base, in tiers from int8 to 1-bit, and the fidelity
/// certificates without which a lossy result must not be stored.
/// </summary>
/// <remarks>
/// <para>
/// Per tensor, the delta <c>target − base</c> is computed in single precision and quantized in the tensor's tier
/// (<see cref="LossyTier"/>); tensors of other dtypes, without a same-name same-shape base tensor, small or rank-1
/// tensors (norms, biases), and tensors whose delta is not finite are stored losslessly. Reconstruction is
/// deterministic (one IEEE multiply and add per element, rounded once to the dtype), and every reconstructed tensor
/// is checked against the SHA-256 recorded when the delta was made. The file layout is in docs/lossy.md.
/// </para>
/// <para>
/// The rule for storing (used by the registry and the CLI): a delta whose reconstruction differs from its target
/// needs a certificate that matches it and passed its criteria (<see cref="EnsureCertified"/>), unless forced.
/// </para>
/// </remarks>
public static class LossyDelta
{
    /// <summary>The file extension of lossy deltas.</summary>
    public const string FileExtension = LossyDeltaFormat.FileExtension;

    /// <summary>Writes a lossy delta of <paramref name="target"/> against <paramref name="base"/>, one tensor at a time.</summary>
    /// <param name="target">The fine-tuned model (.safetensors or .z4ai).</param>
    /// <param name="base">The model it was fine-tuned from (.safetensors or .z4ai).</param>
    /// <param name="output">The lossy delta to write; replaced atomically, never left half-written.</param>
    /// <param name="options">Tiers and settings; the defaults when null (int8, one scale per row).</param>
    /// <param name="progress">Receives per-tensor progress.</param>
    /// <param name="cancellationToken">Cancels between tensors; nothing is written then.</param>
    /// <returns>The description of the delta written, with per-tensor errors.</returns>
    /// <exception cref="Z4AiFormatException">An input is not a valid tensor file.</exception>
    public static LossyDeltaInfo Compress(
        string target,
        string @base,
        string output,
        LossyOptions? options = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentException.ThrowIfNullOrEmpty(@base);
        ArgumentException.ThrowIfNullOrEmpty(output);
        return LossyDeltaWriter.Compress(target, @base, output, options ?? new LossyOptions(), progress, cancellationToken);
    }

    /// <summary>Writes the reconstructed model as a .safetensors file with the target's header.</summary>
    /// <param name="delta">A lossy delta.</param>
    /// <param name="base">The base it was made against; every tensor used is checked against its recorded SHA-256.</param>
    /// <param name="output">The .safetensors file to write (atomically).</param>
    /// <param name="progress">Receives per-tensor progress.</param>
    /// <param name="cancellationToken">Cancels between tensors.</param>
    /// <exception cref="Z4AiFormatException">The delta is malformed, or the base is not the one it was made against (<see cref="Z4AiErrorKind.ReferenceMismatch"/>).</exception>
    /// <exception cref="Z4AiIntegrityException">A reconstructed tensor does not match its recorded SHA-256.</exception>
    public static void Reconstruct(string delta, string @base, string output, IProgress<ProgressInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(delta);
        ArgumentException.ThrowIfNullOrEmpty(@base);
        ArgumentException.ThrowIfNullOrEmpty(output);
        using LossyDeltaReader reader = LossyDeltaReader.Open(delta);
        reader.Reconstruct(@base, output, progress, cancellationToken);
    }

    /// <summary>Describes a lossy delta without its base: tiers, sizes, errors and the three model identities.</summary>
    /// <exception cref="Z4AiFormatException">The file is not a valid lossy delta.</exception>
    public static LossyDeltaInfo Inspect(string delta)
    {
        ArgumentException.ThrowIfNullOrEmpty(delta);
        using LossyDeltaReader reader = LossyDeltaReader.Open(delta);
        return reader.GetInfo();
    }

    /// <summary>Describes a lossy delta held in memory.</summary>
    /// <exception cref="Z4AiFormatException">The bytes are not a valid lossy delta.</exception>
    public static LossyDeltaInfo Inspect(ReadOnlyMemory<byte> delta)
    {
        using var stream = new MemoryStream(delta.ToArray(), writable: false);
        using LossyDeltaReader reader = LossyDeltaReader.Open(stream, leaveOpen: true, displayName: null);
        return reader.GetInfo();
    }

    /// <summary>True when the file starts with the lossy-delta magic.</summary>
    public static bool IsLossyDelta(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        Span<byte> head = stackalloc byte[4];
        return stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && LossyDeltaFormat.HasMagic(head);
    }

    /// <summary>
    /// Certifies a lossy delta: reconstructs it, evaluates the target, the reconstruction and (optionally) the base
    /// with <paramref name="task"/>, and returns the certificate bound to the delta's bytes. A certificate is
    /// returned whether it passed or not; see <see cref="FidelityCertificate.Passed"/>.
    /// </summary>
    /// <param name="delta">The lossy delta.</param>
    /// <param name="base">The base it was made against.</param>
    /// <param name="target">The target it approximates (checked against the delta's target identity).</param>
    /// <param name="task">The evaluation.</param>
    /// <param name="criteria">What must be met; <see cref="CertificationCriteria.Default"/> when null.</param>
    /// <param name="evaluateBase">Also evaluate the base, to record what the fine-tune changed.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <exception cref="Z4AiCertificationException">The target is not the delta's, or the evaluator failed.</exception>
    public static FidelityCertificate Certify(
        string delta,
        string @base,
        string target,
        ICertificationTask task,
        CertificationCriteria? criteria = null,
        bool evaluateBase = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(delta);
        ArgumentException.ThrowIfNullOrEmpty(@base);
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentNullException.ThrowIfNull(task);
        return Certifier.Certify(delta, @base, target, task, criteria ?? CertificationCriteria.Default, evaluateBase, cancellationToken);
    }

    /// <summary>
    /// Checks that <paramref name="certificate"/> is bound to the delta file (its SHA-256, length, model identities,
    /// settings and per-tensor records) and internally consistent (the p-value, interval and verdict follow from
    /// its counts).
    /// </summary>
    /// <exception cref="Z4AiFormatException">The delta is not a valid lossy delta.</exception>
    public static CertificateVerification Verify(FidelityCertificate certificate, string delta)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Certifier.Verify(certificate, Inspect(delta));
    }

    /// <summary>Checks a certificate against a delta held in memory.</summary>
    /// <exception cref="Z4AiFormatException">The bytes are not a valid lossy delta.</exception>
    public static CertificateVerification Verify(FidelityCertificate certificate, ReadOnlyMemory<byte> delta)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Certifier.Verify(certificate, Inspect(delta));
    }

    /// <summary>
    /// The rule for storing a delta. A delta that reconstructs its target exactly needs nothing. A lossy one needs a
    /// certificate that matches it and passed, unless <paramref name="force"/> is set. A certificate that does not
    /// match is refused even when forced: storing it would record a false claim.
    /// </summary>
    /// <param name="delta">The delta to store.</param>
    /// <param name="certificate">Its certificate, or null.</param>
    /// <param name="force">Store a lossy delta without a passing certificate.</param>
    /// <returns>Why the delta may be stored.</returns>
    /// <exception cref="Z4AiCertificationException">
    /// <see cref="Z4AiErrorKind.CertificateMismatch"/> when the certificate does not match the delta;
    /// <see cref="Z4AiErrorKind.CertificationRequired"/> when a lossy delta has no passing certificate and is not forced.
    /// </exception>
    public static CertificationStatus EnsureCertified(string delta, FidelityCertificate? certificate, bool force = false)
    {
        LossyDeltaInfo info = Inspect(delta);
        if (certificate is not null)
        {
            Certifier.Verify(certificate, info).ThrowIfInvalid();
        }

        if (!info.IsLossy)
        {
            return CertificationStatus.NotRequired;
        }

        if (certificate is { Passed: true })
        {
            return CertificationStatus.Certified;
        }

        if (force)
        {
            return CertificationStatus.Forced;
        }

        string reason = certificate is null
            ? "it has no fidelity certificate"
            : $"its certificate failed: {Certifier.FailureReason(certificate.Evaluation, certificate.Criteria)}";
        throw new Z4AiCertificationException(
            Z4AiErrorKind.CertificationRequired,
            $"{delta} is a lossy delta ({info.Settings.Tier.GetName()}) and {reason}; certify it, or force storing it");
    }
}
