using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Registry;

/// <summary>A certificate blob's key: the version it certifies, when it was stored, and its SHA-256.</summary>
internal sealed record StoredCertificateKey(string Key, string Version, long Ticks, Sha256Digest Sha256);

/// <summary>A certificate read from the store, with its key's digest (checked against its bytes).</summary>
internal sealed record StoredCertificate(StoredCertificateKey Key, FidelityCertificate Certificate)
{
    public Sha256Digest Sha256 => Key.Sha256;
}

/// <summary>
/// Certificates of lossy versions (docs/registry-format.md, section 6). Each is a blob
/// <c>certificates/VERSION/TICKS-SHA256.json</c> holding the certificate's canonical JSON: written once with a
/// conditional create, never changed. The certificate a version was published with is pinned by SHA-256 in its
/// manifest; <c>certify</c> adds later ones (stamped after the version's creation), and the newest valid one is the
/// version's current certificate. Stamps before the version's creation that the manifest does not pin are left-overs
/// of an interrupted add and are ignored (and collected by gc).
/// </summary>
internal static class RegistryCertificates
{
    public const string Prefix = "certificates/";

    /// <summary>The <c>format_version</c> a registry certificate's <c>delta</c> member records: the listing layout's.</summary>
    public const int ListingVersion = 1;

    /// <summary>The largest certificate blob a reader loads.</summary>
    public const long MaxLength = 64 << 20;

    public static string VersionPrefix(string version) => Prefix + version + "/";

    public static string KeyOf(string version, long ticks, Sha256Digest sha) =>
        VersionPrefix(version) + ticks.ToString("D19", CultureInfo.InvariantCulture) + "-" + sha + ".json";

    /// <summary>Stores a certificate for a version, stamped <paramref name="at"/>.</summary>
    public static StoredCertificateKey Put(StoreAccess access, string version, DateTimeOffset at, FidelityCertificate certificate, CancellationToken ct)
    {
        byte[] bytes = certificate.ToUtf8Json();
        var sha = new Sha256Digest(SHA256.HashData(bytes));
        string key = KeyOf(version, at.UtcTicks, sha);
        access.PutIfAbsent(key, bytes, ct);
        return new StoredCertificateKey(key, version, at.UtcTicks, sha);
    }

    public static bool TryParseKey(string key, out StoredCertificateKey parsed)
    {
        parsed = null!;
        if (!key.StartsWith(Prefix, StringComparison.Ordinal) || !key.EndsWith(".json", StringComparison.Ordinal))
        {
            return false;
        }

        string rest = key[Prefix.Length..^".json".Length];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return false;
        }

        string version = rest[..slash];
        string stamp = rest[(slash + 1)..];
        int dash = stamp.IndexOf('-', StringComparison.Ordinal);
        if (!RegistryLayout.IsValidVersionName(version) || dash != 19
            || !long.TryParse(stamp.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture, out long ticks)
            || !Sha256Digest.TryParse(stamp[20..], out Sha256Digest sha) || sha.ToString() != stamp[20..])
        {
            return false;
        }

        parsed = new StoredCertificateKey(key, version, ticks, sha);
        return true;
    }

    /// <summary>Every certificate blob in the store with a well-formed key.</summary>
    public static List<StoredCertificateKey> ListAll(StoreAccess access, CancellationToken ct)
    {
        var keys = new List<StoredCertificateKey>();
        foreach (BlobInfo blob in access.List(Prefix, ct))
        {
            if (TryParseKey(blob.Key, out StoredCertificateKey key))
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    /// <summary>Whether a certificate blob belongs to this manifest's version: pinned by it, or added after its creation.</summary>
    public static bool IsValidFor(StoredCertificateKey key, Manifest manifest) =>
        manifest.Lossy is not null && key.Version == manifest.Name
        && ((manifest.Certificate is { } pin && pin.Sha256 == key.Sha256) || key.Ticks > manifest.Created.UtcTicks);

    /// <summary>The version's valid certificates, oldest first.</summary>
    public static List<StoredCertificateKey> ListValid(StoreAccess access, Manifest manifest, CancellationToken ct)
    {
        var keys = new List<StoredCertificateKey>();
        foreach (BlobInfo blob in access.List(VersionPrefix(manifest.Name), ct))
        {
            if (TryParseKey(blob.Key, out StoredCertificateKey key) && IsValidFor(key, manifest))
            {
                keys.Add(key);
            }
        }

        keys.Sort(static (a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : string.CompareOrdinal(a.Key, b.Key));
        return keys;
    }

    /// <summary>The newest valid certificate of a lossy version, or null when it has none.</summary>
    /// <exception cref="Z4AiCertificationException">The blob is damaged.</exception>
    public static StoredCertificate? Current(StoreAccess access, Manifest manifest, CancellationToken ct)
    {
        List<StoredCertificateKey> keys = ListValid(access, manifest, ct);
        return keys.Count == 0 ? null : new StoredCertificate(keys[^1], Read(access, keys[^1], ct));
    }

    /// <summary>Reads a certificate blob and checks it against the digest in its key.</summary>
    /// <exception cref="Z4AiCertificationException">It is missing, damaged or not a certificate.</exception>
    public static FidelityCertificate Read(StoreAccess access, StoredCertificateKey key, CancellationToken ct)
    {
        byte[] bytes = access.TryReadAll(key.Key, MaxLength, ct) ?? throw new Z4AiCertificationException(
            Z4AiErrorKind.CertificateMismatch, $"{access.Describe(key.Key)} is missing");
        var actual = new Sha256Digest(SHA256.HashData(bytes));
        if (actual != key.Sha256)
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificateMismatch, $"{access.Describe(key.Key)} has SHA-256 {actual}, its name says {key.Sha256}: the certificate was altered");
        }

        FidelityCertificate certificate = FidelityCertificate.Parse(bytes);
        if (certificate.ComputeSha256() != key.Sha256.ToString())
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificateMismatch, $"{access.Describe(key.Key)} is not in canonical form (it re-serialises to {certificate.ComputeSha256()})");
        }

        return certificate;
    }

    /// <summary>
    /// The tensor listing a registry certificate is bound to, and its length: <c>"Z4RL"</c>, <c>u8</c> listing
    /// version, <c>varint</c> tensor count, then per tensor in file order <c>varint</c> name length, name (UTF-8),
    /// <c>u8</c> mode (0 lossless, 1 int8, 2 int4, 3 sparse, 4 1bit), 32-byte target SHA-256, 32-byte base SHA-256 (zeros
    /// when coded without one), 32-byte reconstructed SHA-256 (the object the tensor is read from).
    /// </summary>
    public static (Sha256Digest Digest, long Length) Listing(Manifest manifest)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("Z4RL"u8);
        buffer.Write([(byte)ListingVersion]);
        ManifestTensor[] tensors = [.. manifest.AllTensors];
        VarInt.Write(buffer, (ulong)tensors.Length);
        Span<byte> zeros = stackalloc byte[Sha256Digest.Size];
        foreach (ManifestTensor t in tensors)
        {
            byte[] name = Encoding.UTF8.GetBytes(t.Name);
            VarInt.Write(buffer, (ulong)name.Length);
            buffer.Write(name);
            buffer.Write([(byte)(t.Lossy?.Mode ?? LossyTier.Lossless)]);
            buffer.Write((t.Lossy?.Target ?? t.Sha256).Bytes);
            if (t.Lossy?.Base is Sha256Digest b)
            {
                buffer.Write(b.Bytes);
            }
            else
            {
                buffer.Write(zeros);
            }

            buffer.Write(t.Sha256.Bytes);
        }

        return (new Sha256Digest(SHA256.HashData(buffer.WrittenSpan)), buffer.WrittenCount);
    }
}
