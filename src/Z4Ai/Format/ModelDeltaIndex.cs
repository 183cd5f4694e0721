using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Delta;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// The model-delta index (docs/delta-format.md section 2.2): serialisation and a validating parse that checks
/// every count and length against the bytes that remain before allocating for it, that the segments tile the data
/// section, that the recorded model identity matches the entries, and that the kept safetensors header describes
/// exactly the entries in their order.
/// </summary>
internal sealed class ModelDeltaIndex
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public ModelDeltaIndex(
        int chunkSize,
        int frameSize,
        int segmentSize,
        Sha256Digest baseModel,
        long baseTensorCount,
        Sha256Digest targetModel,
        bool headerSynthesized,
        byte[] header,
        ModelDeltaEntry[] entries)
    {
        ChunkSize = chunkSize;
        FrameSize = frameSize;
        SegmentSize = segmentSize;
        BaseModel = baseModel;
        BaseTensorCount = baseTensorCount;
        TargetModel = targetModel;
        HeaderSynthesized = headerSynthesized;
        Header = header;
        Entries = entries;
    }

    /// <summary>Bytes per buffer-delta chunk.</summary>
    public int ChunkSize { get; }

    /// <summary>Raw bytes per codec frame of a frames segment (a tensor part stored on its own).</summary>
    public int FrameSize { get; }

    /// <summary>Bytes per segment; a multiple of <see cref="ChunkSize"/> and <see cref="FrameSize"/>.</summary>
    public int SegmentSize { get; }

    /// <summary>The identity (<see cref="ModelDigest"/>) of the base model the delta must be applied to.</summary>
    public Sha256Digest BaseModel { get; }

    /// <summary>How many tensors the base model has.</summary>
    public long BaseTensorCount { get; }

    /// <summary>The identity of the model the delta rebuilds (it equals the digest of <see cref="Entries"/>).</summary>
    public Sha256Digest TargetModel { get; }

    /// <summary>True when the target kept no safetensors header and the canonical one was made for it.</summary>
    public bool HeaderSynthesized { get; }

    /// <summary>The target's safetensors header: 8-byte length prefix plus JSON, padding included.</summary>
    public byte[] Header { get; }

    /// <summary>The target tensors, in the data order of <see cref="Header"/>.</summary>
    public ModelDeltaEntry[] Entries { get; }

    /// <summary>The <c>__metadata__</c> of the kept header (known after a parse), or null.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>
    /// Serialises the index; <paramref name="effort"/> is how hard the kept header is compressed. With
    /// <paramref name="storedHeader"/> the header goes in a Stored frame instead, for an index that is then packed
    /// whole: its names and shapes compress together with the entries' (docs/delta-format.md 2.3a).
    /// </summary>
    public void Write(IBufferWriter<byte> output, CompressionEffort effort, bool storedHeader = false)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), (uint)ChunkSize);
        output.Advance(4);
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), (uint)FrameSize);
        output.Advance(4);
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), (uint)SegmentSize);
        output.Advance(4);
        output.Write(BaseModel.Bytes);
        VarInt.Write(output, (ulong)BaseTensorCount);
        output.Write(TargetModel.Bytes);
        WriteByte(output, HeaderSynthesized ? ModelDeltaFormat.HeaderSynthesized : ModelDeltaFormat.HeaderKept);
        using (var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(Header.Length)))
        {
            // JSON headers compress several-fold; for a fine-tune whose tensors are mostly copies the header can be
            // most of what a delta stores.
            if (storedHeader)
            {
                WriteByte(frame, (byte)CodecId.Stored);
                VarInt.Write(frame, (ulong)Header.Length);
                frame.Write(Header);
            }
            else
            {
                TensorCodec.Encode(Header, DType.U8, effort, frame);
            }
            VarInt.Write(output, (ulong)frame.WrittenCount);
            output.Write(frame.WrittenSpan);
        }

        VarInt.Write(output, (ulong)Entries.Length);
        foreach (ModelDeltaEntry entry in Entries)
        {
            WriteTensor(output, entry.Tensor);
            WriteByte(output, (byte)entry.Mode);
            if (entry.Base is not null)
            {
                WriteTensor(output, entry.Base);
            }

            if (entry.Mode == ModelDeltaTensorMode.Copy)
            {
                continue;
            }

            VarInt.Write(output, (ulong)entry.Segments.Length);
            foreach (ModelDeltaSegment s in entry.Segments)
            {
                WriteByte(output, s.Kind);
                VarInt.Write(output, (ulong)s.Offset);
                VarInt.Write(output, (ulong)s.StoredLength);
                BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), s.Checksum);
                output.Advance(8);
            }
        }
    }

    /// <summary>
    /// Parses and validates an index that starts at file offset <paramref name="indexOffset"/>; the data section is
    /// <c>[HeaderLength, indexOffset)</c>. Errors are <see cref="Z4AiFormatException"/> with absolute offsets.
    /// </summary>
    public static ModelDeltaIndex Parse(ReadOnlySpan<byte> index, long indexOffset)
    {
        string? current = null;
        try
        {
            return ParseCore(index, indexOffset, ref current);
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            throw new Z4AiFormatException(ex.Kind, ex.Detail, tensorName: ex.TensorName ?? current, offset: ex.Offset + indexOffset, innerException: ex);
        }
    }

    private static ModelDeltaIndex ParseCore(ReadOnlySpan<byte> index, long indexOffset, ref string? current)
    {
        var reader = new SpanReader(index, Z4AiErrorKind.InvalidContainer);
        uint chunkSize = reader.ReadUInt32();
        uint frameSize = reader.ReadUInt32();
        uint segmentSize = reader.ReadUInt32();
        if (!ModelDeltaFormat.IsValidLayout(chunkSize, frameSize, segmentSize))
        {
            Fail(
                $"chunk size {chunkSize}, frame size {frameSize} and segment size {segmentSize} are invalid: chunks and frames are multiples of 8 from {DeltaOptions.MinChunkSize} to {DeltaOptions.MaxChunkSize}, the segment a multiple of both up to {ModelDeltaFormat.MaxSegmentSize}",
                0);
        }

        var baseModel = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        int baseCountAt = reader.Position;
        ulong baseCount = reader.ReadVarUInt64();
        if (baseCount > int.MaxValue)
        {
            Fail($"the base model is said to have {baseCount} tensors", baseCountAt);
        }

        var targetModel = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        int originAt = reader.Position;
        byte origin = reader.ReadByte();
        if (origin is not (ModelDeltaFormat.HeaderKept or ModelDeltaFormat.HeaderSynthesized))
        {
            Fail($"header origin byte is {origin}, expected 0 or 1", originAt);
        }

        byte[] header = ReadHeader(ref reader);

        int countAt = reader.Position;
        ulong count = reader.ReadVarUInt64();
        if (count > (ulong)(reader.Remaining / ModelDeltaFormat.MinEntryLength))
        {
            Fail($"index declares {count} tensors but its remaining {reader.Remaining} bytes hold at most {reader.Remaining / ModelDeltaFormat.MinEntryLength}", countAt);
        }

        var entries = new ModelDeltaEntry[(int)count];
        var names = new Dictionary<string, int>((int)count, StringComparer.Ordinal);
        long position = ModelDeltaFormat.HeaderLength;
        for (int e = 0; e < entries.Length; e++)
        {
            current = null;
            int entryAt = reader.Position;
            ModelTensor tensor = ReadTensor(ref reader, "tensor");
            current = tensor.Name;
            if (!names.TryAdd(tensor.Name, e))
            {
                Fail(Z4AiErrorKind.DuplicateKey, $"tensor name appears twice in the index (entries {names[tensor.Name]} and {e})", entryAt);
            }

            int modeAt = reader.Position;
            byte modeByte = reader.ReadByte();
            var mode = (ModelDeltaTensorMode)modeByte;
            ModelTensor? @base = null;
            switch (mode)
            {
                case ModelDeltaTensorMode.Scratch:
                    break;
                case ModelDeltaTensorMode.Copy:
                    @base = ReadTensor(ref reader, "base tensor");
                    if (@base.Length != tensor.Length || @base.Digest != tensor.Digest || tensor.Length == 0)
                    {
                        Fail($"the tensor is recorded as a copy of base tensor '{@base.Name}', but their lengths or SHA-256 differ (or it is empty)", modeAt);
                    }

                    break;
                case ModelDeltaTensorMode.Delta:
                    @base = ReadTensor(ref reader, "base tensor");
                    if (@base.DType != tensor.DType || tensor.Length == 0)
                    {
                        Fail($"the tensor ({tensor.Describe()}) is recorded as a delta against base tensor '{@base.Name}' ({@base.Describe()}); a delta needs the same dtype and a non-empty tensor", modeAt);
                    }

                    break;
                default:
                    Fail($"unknown tensor mode {modeByte}", modeAt);
                    break;
            }

            ModelDeltaSegment[] segments = mode == ModelDeltaTensorMode.Copy
                ? []
                : ReadSegments(ref reader, tensor.Length, (int)chunkSize, (int)frameSize, (int)segmentSize, mode, indexOffset, ref position);
            entries[e] = new ModelDeltaEntry(e, tensor, mode, @base, segments);
        }

        current = null;
        if (reader.Remaining != 0)
        {
            Fail($"{reader.Remaining} unexpected bytes after the last entry", reader.Position);
        }

        if (position != indexOffset)
        {
            Fail($"the segments end at file offset {position} but the index starts at {indexOffset}: the data section holds bytes no segment accounts for", countAt);
        }

        Sha256Digest actualModel = ModelDigest.Compute(entries.Select(e => e.Tensor));
        if (actualModel != targetModel)
        {
            Fail($"the index records target model SHA-256 {targetModel}, but its entries describe model {actualModel}", originAt - Sha256Digest.Size);
        }

        SafeTensorsHeader parsed = CheckHeaderDescribes(header, entries.Select(e => e.Tensor).ToArray(), countAt);
        return new ModelDeltaIndex((int)chunkSize, (int)frameSize, (int)segmentSize, baseModel, (long)baseCount, targetModel, origin == ModelDeltaFormat.HeaderSynthesized, header, entries)
        {
            Metadata = parsed.Metadata,
        };
    }

    private static ModelDeltaSegment[] ReadSegments(
        ref SpanReader reader, long rawLength, int chunkSize, int frameSize, int segmentSize, ModelDeltaTensorMode mode, long indexOffset, ref long position)
    {
        long expected = ModelDeltaFormat.PartCount(rawLength, segmentSize);
        int countAt = reader.Position;
        if (expected > reader.Remaining / ModelDeltaFormat.MinSegmentRecordLength)
        {
            Fail($"a tensor of {rawLength} bytes needs {expected} segments of {segmentSize}, but the remaining {reader.Remaining} index bytes cannot hold them", countAt);
        }

        ulong count = reader.ReadVarUInt64();
        if (count != (ulong)expected)
        {
            Fail($"the segment table has {count} segments; {rawLength} bytes in segments of {segmentSize} need {expected}", countAt);
        }

        var segments = new ModelDeltaSegment[(int)count];
        for (int j = 0; j < segments.Length; j++)
        {
            int at = reader.Position;
            byte kind = reader.ReadByte();
            ulong offset = reader.ReadVarUInt64();
            ulong stored = reader.ReadVarUInt64();
            ulong checksum = reader.ReadUInt64();
            long segmentRaw = Math.Min(segmentSize, rawLength - ((long)j * segmentSize));
            if (kind != ModelDeltaFormat.SegmentFrames && !(kind == ModelDeltaFormat.SegmentDelta && mode == ModelDeltaTensorMode.Delta))
            {
                Fail($"segment {j} has kind {kind}, which a {mode.ToString().ToLowerInvariant()} tensor cannot hold", at);
            }

            long maxStored = ModelDeltaFormat.MaxStoredLength(segmentRaw, chunkSize, frameSize);
            if (stored < 1 || stored > (ulong)maxStored)
            {
                Fail($"segment {j} stores {stored} bytes for {segmentRaw} raw bytes; 1 to {maxStored} are allowed", at);
            }

            // Segments are written front to back in index order, so each starts where the previous one ended.
            if (offset != (ulong)position || (ulong)indexOffset - (ulong)position < stored)
            {
                Fail($"segment {j} is at file offset {offset} with {stored} bytes, but the next segment must start at {position} and end by the index at {indexOffset}", at);
            }

            segments[j] = new ModelDeltaSegment(kind, (long)offset, (int)stored, checksum);
            position += (long)stored;
        }

        return segments;
    }

    private static ModelTensor ReadTensor(ref SpanReader reader, string what)
    {
        int nameAt = reader.Position;
        int nameLength = reader.ReadVarInt32(reader.Remaining);
        string name = DecodeUtf8(reader.ReadBytes(nameLength), $"{what} name", nameAt);
        int dtypeAt = reader.Position;
        byte dtypeByte = reader.ReadByte();
        if (dtypeByte >= DTypeInfo.Count)
        {
            Fail($"{what} '{name}' has unknown dtype code {dtypeByte}", dtypeAt);
        }

        var dtype = (DType)dtypeByte;
        int rank = reader.ReadVarInt32(reader.Remaining);
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            int dimAt = reader.Position;
            ulong d = reader.ReadVarUInt64();
            if (d > long.MaxValue)
            {
                Fail($"{what} '{name}': dimension {i} is {d}, beyond the signed 64-bit range", dimAt);
            }

            shape[i] = (long)d;
        }

        int rawAt = reader.Position;
        ulong raw = reader.ReadVarUInt64();
        if (ShapeMath.TryGetByteLength(dtype, MemoryMarshal.Cast<long, ulong>(shape.AsSpan()), out ulong expected) != ShapeMath.Status.Ok
            || raw != expected || raw > long.MaxValue)
        {
            Fail($"{what} '{name}': length {raw} is not the byte length of {dtype.GetName()}[{string.Join(",", shape)}]", rawAt);
        }

        var digest = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        return new ModelTensor(name, dtype, shape, (long)raw, digest);
    }

    private static byte[] ReadHeader(ref SpanReader reader)
    {
        int at = reader.Position;
        int frameLength = reader.ReadVarInt32(reader.Remaining);
        ReadOnlySpan<byte> frame = reader.ReadBytes(frameLength);
        (_, int rawLength, _) = TensorCodec.ReadHeader(frame);
        if (rawLength is < 8 or > ModelDeltaFormat.MaxOriginalHeaderLength)
        {
            Fail(Z4AiErrorKind.LimitExceeded, $"the kept safetensors header is {rawLength} bytes; 8 to {ModelDeltaFormat.MaxOriginalHeaderLength} are allowed", at);
        }

        byte[] header = GC.AllocateUninitializedArray<byte>(rawLength);
        try
        {
            TensorCodec.Decode(frame, header);
        }
        catch (Z4AiFormatException ex)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"the kept safetensors header does not decode: {ex.Detail}", offset: at, innerException: ex);
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(header) != (ulong)(header.Length - 8))
        {
            Fail("the kept safetensors header's 8-byte length prefix does not match its length", at);
        }

        return header;
    }

    /// <summary>
    /// Checks that a safetensors header lays out exactly <paramref name="entries"/> in exactly this data order. The
    /// restored file is the header followed by every entry's bytes in index order, so this makes it a valid
    /// safetensors file whatever the delta holds.
    /// </summary>
    internal static SafeTensorsHeader CheckHeaderDescribes(byte[] header, IReadOnlyList<ModelTensor> entries, int at)
    {
        long total = header.Length;
        foreach (ModelTensor e in entries)
        {
            if (e.Length > long.MaxValue - total)
            {
                Fail("the tensors add up to more than 2^63 - 1 bytes", at);
            }

            total += e.Length;
        }

        SafeTensorsHeader parsed;
        try
        {
            parsed = SafeTensorsFormat.ParseHeader(header.AsSpan(8), total);
        }
        catch (Z4AiFormatException ex)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"the kept safetensors header does not fit the tensors: {ex.Detail}", tensorName: ex.TensorName, offset: at, innerException: ex);
        }

        if (parsed.Tensors.Count != entries.Count)
        {
            Fail($"the kept safetensors header lists {parsed.Tensors.Count} tensors but the index has {entries.Count}", at);
        }

        for (int i = 0; i < entries.Count; i++)
        {
            SafeTensorsEntry h = parsed.Tensors[i];
            ModelTensor t = entries[i];
            if (h.Name != t.Name || !t.SameLayout(h.DType, h.Shape) || h.Length != t.Length)
            {
                Fail($"tensor {i} of the kept safetensors header is '{h.Name}' {h.DType.GetName()}[{string.Join(",", h.Shape)}], but the index has '{t.Name}' {t.Describe()}", at);
            }
        }

        return parsed;
    }

    private static void WriteTensor(IBufferWriter<byte> output, ModelTensor tensor)
    {
        byte[] name = ContainerIndex.EncodeUtf8(tensor.Name, nameof(tensor));
        VarInt.Write(output, (ulong)name.Length);
        output.Write(name);
        WriteByte(output, (byte)tensor.DType);
        VarInt.Write(output, (ulong)tensor.Shape.Length);
        foreach (long d in tensor.Shape)
        {
            VarInt.Write(output, (ulong)d);
        }

        VarInt.Write(output, (ulong)tensor.Length);
        output.Write(tensor.Digest.Bytes);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes, string what, int at)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Fail<string>($"the {what} is not valid UTF-8", at);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message, int relativeOffset) => Fail(Z4AiErrorKind.InvalidContainer, message, relativeOffset);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(Z4AiErrorKind kind, string message, int relativeOffset) =>
        throw new Z4AiFormatException(kind, message, offset: relativeOffset);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static T Fail<T>(string message, int relativeOffset) =>
        throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, message, offset: relativeOffset);
}
