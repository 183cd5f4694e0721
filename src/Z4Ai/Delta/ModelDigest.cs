using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// The identity of a whole model: one SHA-256 over every tensor's name, dtype, shape, length and SHA-256, in a
/// canonical order. It depends on the tensors alone, not on the file that holds them, so a model has the same
/// identity as a <c>.safetensors</c> file and as a <c>.z4ai</c> container, and a delta can name the model it must be
/// applied to (and the model it produces) without either file at hand.
/// </summary>
/// <remarks>
/// The hashed bytes (docs/delta-format.md): <c>varint count</c>, then per tensor, sorted by the UTF-8 bytes of the
/// name (ordinal): <c>varint name length</c>, the name's UTF-8 bytes, <c>u8 dtype</c>, <c>varint rank</c>,
/// <c>varint</c> per dimension, <c>varint byte length</c>, the 32-byte SHA-256. Every field is length-prefixed or
/// fixed-size, so two different models never hash the same bytes.
/// </remarks>
internal static class ModelDigest
{
    /// <summary>Computes the identity of the model made of <paramref name="tensors"/> (in any order).</summary>
    public static Sha256Digest Compute(IEnumerable<ModelTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var named = new List<(byte[] Name, ModelTensor Tensor)>();
        foreach (ModelTensor t in tensors)
        {
            named.Add((Encoding.UTF8.GetBytes(t.Name), t));
        }

        named.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var buffer = new ArrayPoolBufferWriter<byte>(256);
        VarInt.Write(buffer, (ulong)named.Count);
        foreach ((byte[] name, ModelTensor t) in named)
        {
            VarInt.Write(buffer, (ulong)name.Length);
            buffer.Write(name);
            buffer.GetSpan(1)[0] = (byte)t.DType;
            buffer.Advance(1);
            VarInt.Write(buffer, (ulong)t.Shape.Length);
            foreach (long d in t.Shape)
            {
                VarInt.Write(buffer, (ulong)d);
            }

            VarInt.Write(buffer, (ulong)t.Length);
            buffer.Write(t.Digest.Bytes);

            // Flushing now and then keeps the buffer small for models with many tensors.
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
