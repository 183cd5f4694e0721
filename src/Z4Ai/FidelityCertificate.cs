using System.Security.Cryptography;
using System.Text;
using Z4Ai.Certification;

namespace Z4Ai;

/// <summary>
/// What was measured about a lossy delta, on what, against which weights, and the result, bound by SHA-256 to the
/// delta's bytes. Serialized as canonical JSON (fixed key order, compact numbers, <c>\n</c> line ends), so the same
/// certificate always has the same bytes and the same <see cref="ComputeSha256"/>.
/// </summary>
/// <param name="DeltaSha256">SHA-256 of the whole lossy-delta file.</param>
/// <param name="DeltaLength">Its length in bytes.</param>
/// <param name="DeltaFormatVersion">Its format version.</param>
/// <param name="BaseSha256">The identity of the base model.</param>
/// <param name="TargetSha256">The identity of the target model.</param>
/// <param name="ReconstructedSha256">The identity of the reconstructed model that was evaluated.</param>
/// <param name="Settings">The tier and its settings.</param>
/// <param name="Tensors">Per-tensor storage and error, as the delta records them.</param>
/// <param name="Evaluation">The task results.</param>
/// <param name="Criteria">What had to be met.</param>
/// <param name="Passed">Whether the evaluation met the criteria.</param>
public sealed record FidelityCertificate(
    string DeltaSha256,
    long DeltaLength,
    int DeltaFormatVersion,
    string BaseSha256,
    string TargetSha256,
    string ReconstructedSha256,
    LossyTierSettings Settings,
    IReadOnlyList<LossyTensorInfo> Tensors,
    CertificateEvaluation Evaluation,
    CertificationCriteria Criteria,
    bool Passed)
{
    /// <summary>The certificate format version this library writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>The conventional file name suffix of a certificate next to its delta.</summary>
    public const string FileExtension = ".cert.json";

    /// <summary>The <see cref="DeltaBinding"/> of a certificate of a lossy registry version.</summary>
    public const string RegistryBinding = "registry-version";

    /// <summary>
    /// What <see cref="DeltaSha256"/> describes: null for a <c>.z4al</c> file (the SHA-256 of the whole file), or
    /// <see cref="RegistryBinding"/> for a lossy version of a <see cref="ModelRegistry"/>, where it is the SHA-256 of
    /// the version's tensor listing (docs/registry-format.md, section 6).
    /// </summary>
    public string? DeltaBinding { get; init; }

    /// <summary>The canonical JSON text.</summary>
    public string ToJson() => Encoding.UTF8.GetString(CertificateJson.Write(this));

    /// <summary>The canonical JSON as UTF-8 bytes.</summary>
    public byte[] ToUtf8Json() => CertificateJson.Write(this);

    /// <summary>SHA-256 of the canonical JSON, lowercase hex: what a registry manifest records to pin the certificate.</summary>
    public string ComputeSha256() => Convert.ToHexStringLower(SHA256.HashData(CertificateJson.Write(this)));

    /// <summary>Parses a certificate.</summary>
    /// <exception cref="Z4AiCertificationException">The text is not a certificate (<see cref="Z4AiErrorKind.CertificateMismatch"/>).</exception>
    public static FidelityCertificate Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return CertificateJson.Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Parses a certificate from UTF-8 bytes.</summary>
    /// <exception cref="Z4AiCertificationException">The bytes are not a certificate.</exception>
    public static FidelityCertificate Parse(ReadOnlySpan<byte> utf8Json) => CertificateJson.Parse(utf8Json);

    /// <summary>Reads a certificate file.</summary>
    /// <exception cref="Z4AiCertificationException">The file is not a certificate.</exception>
    public static FidelityCertificate Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return CertificateJson.Parse(File.ReadAllBytes(path));
    }

    /// <summary>Writes the canonical JSON to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CertificateFiles.WriteAtomically(path, CertificateJson.Write(this));
    }
}
