using System.Buffers;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Delta;
using Z4Ai.Entropy;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Registry;

/// <summary>
/// Objects of kind <see cref="ObjectKind.Lossy"/>: one tensor of a lossy version, stored as a lossy-tier record
/// against its reference object (docs/registry-format.md, section 4). The payload is <c>u8 mode</c>,
/// <c>varint rank</c>, <c>varint</c> per dimension, then the record exactly as a <c>.z4al</c> file holds it
/// (docs/lossy.md). The object's id is the SHA-256 of the reconstruction, which every decode checks.
/// </summary>
internal static class LossyObject
{
    /// <summary>Builds an object from an encoded record; <paramref name="reconstructedId"/> is the SHA-256 of its decode.</summary>
    public static EncodedObject Encode(
        LossyTier mode, DType dtype, IReadOnlyList<long> shape, ReadOnlySpan<byte> record, ObjectTable referenceTable, long rawLength, Sha256Digest reconstructedId)
    {
        if (mode == LossyTier.Lossless)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "a lossy object holds a lossy record");
        }

        var payload = new ArrayPoolBufferWriter<byte>(record.Length + 32);
        try
        {
            payload.GetSpan(1)[0] = (byte)mode;
            payload.Advance(1);
            VarInt.Write(payload, (ulong)shape.Count);
            foreach (long d in shape)
            {
                VarInt.Write(payload, (ulong)d);
            }

            payload.Write(record);
            ulong checksum = ObjectFormat.Checksum(payload.WrittenSpan);
            int depth = referenceTable.Depth + 1;
            byte[] tail = ObjectFormat.WriteDeltaTail(
                dtype, rawLength, reconstructedId, depth, referenceTable.Id, referenceTable.RawLength, payload.WrittenCount, checksum, ObjectKind.Lossy);
            var table = new ObjectTable(
                ObjectKind.Lossy, dtype, rawLength, reconstructedId, depth, payload.WrittenCount, 0, [], referenceTable.Id, referenceTable.RawLength, checksum)
            {
                TailLength = tail.Length,
            };
            return new EncodedObject(table, [payload], tail);
        }
        catch
        {
            payload.Dispose();
            throw;
        }
    }

    /// <summary>Decodes a lossy object against its verified reference bytes and checks the result's SHA-256.</summary>
    public static byte[] Apply(ObjectStore objects, ObjectTable table, byte[] reference, string subject, CancellationToken ct)
    {
        string key = RegistryLayout.ObjectKey(table.Id);
        byte[] payload = GC.AllocateUninitializedArray<byte>((int)table.PayloadLength);
        objects.Access.ReadExactly(key, 0, payload, ct);
        if (ObjectFormat.Checksum(payload) != table.PayloadChecksum)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.CorruptFrame, $"the lossy payload of object {table.Id} fails its checksum; the object is corrupt", objects.Describe(table.Id), subject, 0);
        }

        byte[] result;
        try
        {
            var reader = new SpanReader(payload, Z4AiErrorKind.CorruptFrame);
            byte mode = reader.ReadByte();
            if (mode is < (byte)LossyTier.Int8 or > (byte)LossyTier.OneBit)
            {
                ThrowHelper.CorruptFrame($"unknown lossy mode {mode}");
            }

            int rank = reader.ReadVarInt32(64);
            var shape = new long[rank];
            long count = 1;
            for (int i = 0; i < rank; i++)
            {
                shape[i] = (long)Math.Min(reader.ReadVarUInt64(), long.MaxValue);
                count = shape[i] == 0 ? 0 : count > EntropyCoder.MaxSymbols / shape[i] ? EntropyCoder.MaxSymbols + 1L : count * shape[i];
            }

            if (!LossyElements.IsSupported(table.DType) || rank == 0 || shape[^1] == 0 || count == 0 || count > EntropyCoder.MaxSymbols
                || count * table.DType.ElementSize() != table.RawLength || table.ReferenceLength != table.RawLength || reference.Length != table.RawLength)
            {
                ThrowHelper.CorruptFrame(
                    $"a {((LossyTier)mode).GetName()} record of {table.DType.GetName()}[{string.Join(",", shape)}] cannot describe {table.RawLength} bytes against a {table.ReferenceLength}-byte reference");
            }

            result = LossyTensorCodec.Decode(reader.Rest, (LossyTier)mode, table.DType, shape, reference);
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            throw new Z4AiFormatException(ex.Kind, $"lossy object {table.Id}: {ex.Detail}", objects.Describe(table.Id), subject, ex.Offset, ex);
        }

        objects.CheckDigest(table.Id, SHA256.HashData(result), subject);
        return result;
    }
}
