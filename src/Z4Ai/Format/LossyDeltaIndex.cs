using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Z4Ai.Delta;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>One tensor of a lossy delta's index.</summary>
internal sealed record LossyDeltaEntry(
    string Name,
    DType DType,
    long[] Shape,
    long RawLength,
    LossyTier Mode,
    long RecordOffset,
    long RecordLength,
    Sha256Digest TargetDigest,
    Sha256Digest? BaseDigest,
    Sha256Digest ReconstructedDigest,
    LossyError Error);

/// <summary>
/// The index of a lossy-delta file (docs/lossy.md): settings, the target's safetensors header, the three model
/// identities and one entry per tensor. Parsing validates every field before anything is allocated from it.
/// </summary>
internal sealed class LossyDeltaIndex
{
    public LossyDeltaIndex(
        LossySettings settings,
        byte[] targetHeader,
        Sha256Digest baseDigest,
        Sha256Digest targetDigest,
        Sha256Digest reconstructedDigest,
        IReadOnlyList<LossyDeltaEntry> entries)
    {
        Settings = settings;
        TargetHeader = targetHeader;
        BaseDigest = baseDigest;
        TargetDigest = targetDigest;
        ReconstructedDigest = reconstructedDigest;
        Entries = entries;
    }

    public LossySettings Settings { get; }

    /// <summary>The target's header bytes: the 8-byte length prefix and the padded JSON.</summary>
    public byte[] TargetHeader { get; }

    public Sha256Digest BaseDigest { get; }

    public Sha256Digest TargetDigest { get; }

    public Sha256Digest ReconstructedDigest { get; }

    /// <summary>The tensors in the target file's data order.</summary>
    public IReadOnlyList<LossyDeltaEntry> Entries { get; }

    public void Write(IBufferWriter<byte> output)
    {
        Settings.Write(output);
        VarInt.Write(output, (ulong)TargetHeader.Length);
        output.Write(TargetHeader);
        output.Write(BaseDigest.Bytes);
        output.Write(TargetDigest.Bytes);
        output.Write(ReconstructedDigest.Bytes);
        VarInt.Write(output, (ulong)Entries.Count);
        foreach (LossyDeltaEntry e in Entries)
        {
            byte[] name = Encoding.UTF8.GetBytes(e.Name);
            VarInt.Write(output, (ulong)name.Length);
            output.Write(name);
            WriteByte(output, (byte)e.DType);
            VarInt.Write(output, (ulong)e.Shape.Length);
            foreach (long d in e.Shape)
            {
                VarInt.Write(output, (ulong)d);
            }

            WriteByte(output, (byte)e.Mode);
            WriteByte(output, e.BaseDigest is null ? (byte)0 : (byte)1);
            VarInt.Write(output, (ulong)e.RecordOffset);
            VarInt.Write(output, (ulong)e.RecordLength);
            output.Write(e.TargetDigest.Bytes);
            if (e.BaseDigest is { } b)
            {
                output.Write(b.Bytes);
            }

            output.Write(e.ReconstructedDigest.Bytes);
            Span<byte> errors = output.GetSpan(24);
            BinaryPrimitives.WriteDoubleLittleEndian(errors, e.Error.RelativeL2);
            BinaryPrimitives.WriteDoubleLittleEndian(errors[8..], e.Error.RelativeL2OfDelta);
            BinaryPrimitives.WriteDoubleLittleEndian(errors[16..], e.Error.MaxAbs);
            output.Advance(24);
        }
    }

    /// <summary>Parses and validates an index whose records must lie within [<paramref name="recordsStart"/>, <paramref name="recordsEnd"/>).</summary>
    public static LossyDeltaIndex Parse(ReadOnlySpan<byte> bytes, long recordsStart, long recordsEnd)
    {
        var reader = new SpanReader(bytes, Z4AiErrorKind.InvalidContainer);
        LossySettings settings = LossySettings.Read(ref reader);
        int headerLength = reader.ReadVarInt32(reader.Remaining);
        if (headerLength < 8)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the target header is {headerLength} bytes, shorter than its length prefix");
        }

        byte[] header = reader.ReadBytes(headerLength).ToArray();
        var baseDigest = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        var targetDigest = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        var reconstructedDigest = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));

        // Each entry takes at least 1 + 1 + 1 + 1 + 1 + 1 + 1 + 64 + 24 bytes, which bounds the count before allocating.
        int count = reader.ReadVarInt32(reader.Remaining / 95);
        var entries = new LossyDeltaEntry[count];
        var names = new HashSet<string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            int nameLength = reader.ReadVarInt32(reader.Remaining);
            string name;
            try
            {
                name = new UTF8Encoding(false, true).GetString(reader.ReadBytes(nameLength));
            }
            catch (DecoderFallbackException ex)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"entry {i} has a name that is not UTF-8", innerException: ex);
            }

            if (!names.Add(name))
            {
                ThrowHelper.Format(Z4AiErrorKind.DuplicateKey, "two index entries have this name", name);
            }

            byte dtypeByte = reader.ReadByte();
            if (dtypeByte >= DTypeInfo.Count)
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown dtype {dtypeByte}", name);
            }

            var dtype = (DType)dtypeByte;
            int rank = reader.ReadVarInt32(Math.Min(64, reader.Remaining));
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++)
            {
                ulong dim = reader.ReadVarUInt64();
                if (dim > long.MaxValue)
                {
                    ThrowHelper.Format(Z4AiErrorKind.ValidationOverflow, $"dimension {d} is {dim}", name);
                }

                shape[d] = (long)dim;
            }

            ulong rawLength = ShapeMath.GetByteLength(dtype, shape, name);
            if (rawLength > (ulong)Array.MaxLength)
            {
                ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"the tensor is {rawLength} bytes, more than one array holds", name);
            }

            byte modeByte = reader.ReadByte();
            byte flags = reader.ReadByte();
            if (modeByte > (byte)LossyTier.OneBit || flags > 1)
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown mode {modeByte} or flags {flags}", name);
            }

            var mode = (LossyTier)modeByte;
            bool hasBase = flags == 1;
            if (mode != LossyTier.Lossless)
            {
                if (!hasBase)
                {
                    ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"a {mode.GetName()} record needs a base tensor", name);
                }

                _ = LossyTensorCodec.Dimensions(shape, dtype);
            }

            ulong offset = reader.ReadVarUInt64();
            ulong length = reader.ReadVarUInt64();
            if (offset < (ulong)recordsStart || offset > (ulong)recordsEnd || length > (ulong)recordsEnd - offset || length > int.MaxValue)
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"record [{offset}, +{length}) lies outside the records section [{recordsStart}, {recordsEnd})", name);
            }

            var target = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
            Sha256Digest? baseTensor = hasBase ? new Sha256Digest(reader.ReadBytes(Sha256Digest.Size)) : null;
            var reconstructed = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
            var error = new LossyError(
                BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadBytes(8)),
                BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadBytes(8)),
                BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadBytes(8)));
            if (!(error.RelativeL2 >= 0) || !(error.RelativeL2OfDelta >= 0) || !(error.MaxAbs >= 0))
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, "an error measure is negative or NaN", name);
            }

            entries[i] = new LossyDeltaEntry(
                name, dtype, shape, (long)rawLength, mode, (long)offset, (long)length, target, baseTensor, reconstructed, error);
        }

        if (reader.Remaining != 0)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the index has {reader.Remaining} bytes after its last entry");
        }

        CheckHeader(header, entries);
        return new LossyDeltaIndex(settings, header, baseDigest, targetDigest, reconstructedDigest, entries);
    }

    /// <summary>Checks that the stored header describes exactly the indexed tensors, in the same order.</summary>
    private static void CheckHeader(byte[] header, LossyDeltaEntry[] entries)
    {
        long n = SafeTensorsFormat.ReadHeaderLength(header, header.Length);
        if (8 + n != header.Length)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the stored target header declares {n} JSON bytes but holds {header.Length - 8}");
        }

        long dataLength = 0;
        foreach (LossyDeltaEntry e in entries)
        {
            dataLength += e.RawLength;
        }

        SafeTensorsHeader parsed = SafeTensorsFormat.ParseHeader(header.AsSpan(8), header.Length + dataLength);
        if (parsed.Tensors.Count != entries.Length)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"the stored target header lists {parsed.Tensors.Count} tensors, the index {entries.Length}");
        }

        for (int i = 0; i < entries.Length; i++)
        {
            SafeTensorsEntry h = parsed.Tensors[i];
            LossyDeltaEntry e = entries[i];
            if (h.Name != e.Name || h.DType != e.DType || !h.Shape.AsSpan().SequenceEqual(e.Shape))
            {
                ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"index entry {i} does not match the stored header's tensor '{h.Name}'", e.Name);
            }
        }
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }
}
