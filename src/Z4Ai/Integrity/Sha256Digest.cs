using System.Security.Cryptography;

namespace Z4Ai.Integrity;

/// <summary>A SHA-256 value: 32 bytes, printed as lowercase hex.</summary>
internal readonly struct Sha256Digest : IEquatable<Sha256Digest>
{
    public const int Size = 32;

    private readonly byte[] _bytes;

    public Sha256Digest(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"a SHA-256 digest is {Size} bytes, got {bytes.Length}", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[Size];

    public static Sha256Digest Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA256.HashData(data, hash);
        return new Sha256Digest(hash);
    }

    public static Sha256Digest Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != Size * 2)
        {
            throw new FormatException($"a SHA-256 digest is {Size * 2} hex characters, got {hex.Length}");
        }

        return new Sha256Digest(Convert.FromHexString(hex));
    }

    public static bool TryParse(string? hex, out Sha256Digest digest)
    {
        digest = default;
        if (hex is null || hex.Length != Size * 2)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[Size];
        if (Convert.FromHexString(hex, buffer, out _, out int written) != System.Buffers.OperationStatus.Done || written != Size)
        {
            return false;
        }

        digest = new Sha256Digest(buffer);
        return true;
    }

    public bool Equals(Sha256Digest other) => Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is Sha256Digest other && Equals(other);

    public override int GetHashCode() => BitConverter.ToInt32(Bytes);

    public override string ToString() => Convert.ToHexStringLower(Bytes);

    public static bool operator ==(Sha256Digest left, Sha256Digest right) => left.Equals(right);

    public static bool operator !=(Sha256Digest left, Sha256Digest right) => !left.Equals(right);
}
