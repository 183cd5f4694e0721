using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>One tensor's contribution to a model identity.</summary>
internal readonly record struct LossyDigestEntry(string Name, DType DType, IReadOnlyList<long> Shape, long Length, Sha256Digest Digest);

/// <summary>
/// The identity of a whole model, independent of the file that holds it: one SHA-256 over every tensor's name,
/// dtype, shape, length and SHA-256. The hashed bytes are those of the model-delta identity (docs/delta-format.md),
/// so a lossy delta names its base, target and reconstruction the same way lossless deltas and the registry do.
/// </summary>
/// <remarks>
/// <c>varint count</c>, then per tensor sorted by the UTF-8 bytes of the name (ordinal): <c>varint name length</c>,
/// the UTF-8 name, <c>u8 dtype</c>, <c>varint rank</c>, <c>varint</c> per dimension, <c>varint byte length</c>, the
/// 32-byte SHA-256.
/// </remarks>
internal static class LossyModelDigest
{
    public static Sha256Digest Compute(IEnumerable<LossyDigestEntry> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var named = new List<(byte[] Name, LossyDigestEntry Entry)>();
        foreach (LossyDigestEntry t in tensors)
        {
            named.Add((Encoding.UTF8.GetBytes(t.Name), t));
        }

        named.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var buffer = new ArrayPoolBufferWriter<byte>(256);
        VarInt.Write(buffer, (ulong)named.Count);
        foreach ((byte[] name, LossyDigestEntry t) in named)
        {
            VarInt.Write(buffer, (ulong)name.Length);
            buffer.Write(name);
            buffer.GetSpan(1)[0] = (byte)t.DType;
            buffer.Advance(1);
            VarInt.Write(buffer, (ulong)t.Shape.Count);
            foreach (long d in t.Shape)
            {
                VarInt.Write(buffer, (ulong)d);
            }

            VarInt.Write(buffer, (ulong)t.Length);
            buffer.Write(t.Digest.Bytes);
            if (buffer.WrittenCount > 1 << 16)
            {
                hash.AppendData(buffer.WrittenSpan);
                buffer.Clear();
            }
        }

        hash.AppendData(buffer.WrittenSpan);
        Span<byte> digest = stackalloc byte[Sha256Digest.Size];
        hash.GetHashAndReset(digest);
        return new Sha256Digest(digest);
    }
}
