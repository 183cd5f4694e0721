using System.Buffers;
using System.Buffers.Binary;

namespace Z4Ai.Format;

/// <summary>
/// Opens a model-delta file: reads the header, footer and index and validates them completely (docs/delta-format.md
/// section 2.4), then hands out segments' stored bytes, each checked against its checksum. Reads are positional and
/// thread-safe. Knows nothing of the base model; <see cref="ModelDeltaLinkSource"/> applies the delta.
/// </summary>
internal sealed class ModelDeltaReader : IDisposable
{
    private readonly ContainerSource _source;

    private ModelDeltaReader(ContainerSource source, ModelDeltaIndex index)
    {
        _source = source;
        Index = index;
        ByName = new Dictionary<string, ModelDeltaEntry>(index.Entries.Length, StringComparer.Ordinal);
        foreach (ModelDeltaEntry e in index.Entries)
        {
            ByName.Add(e.Name, e);
        }
    }

    /// <summary>The validated index.</summary>
    public ModelDeltaIndex Index { get; }

    /// <summary>The entries by tensor name.</summary>
    public Dictionary<string, ModelDeltaEntry> ByName { get; }

    /// <summary>The path the delta was opened from.</summary>
    public string? FilePath => _source.DisplayName;

    /// <summary>The file's length in bytes.</summary>
    public long FileLength => _source.Length;

    /// <summary>True when the first bytes are the model-delta magic "Z4AM".</summary>
    public static bool HasMagic(ReadOnlySpan<byte> firstBytes) => ModelDeltaFormat.HasMagic(firstBytes);

    /// <summary>Opens and validates a model-delta file.</summary>
    /// <exception cref="Z4AiFormatException">The file is not a valid model delta; the message names file and offset.</exception>
    public static ModelDeltaReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ContainerSource source = ContainerSource.OpenFile(path);
        try
        {
            return new ModelDeltaReader(source, LoadIndex(source));
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            source.Dispose();
            throw ex.WithFile(path);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads segment <paramref name="index"/> of <paramref name="entry"/> into a buffer rented from the shared pool
    /// (the caller returns it) and checks its checksum.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The stored bytes fail their checksum (<see cref="Z4AiErrorKind.CorruptFrame"/>).</exception>
    public byte[] ReadSegment(ModelDeltaEntry entry, int index)
    {
        ModelDeltaSegment segment = entry.Segments[index];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(segment.StoredLength);
        try
        {
            Span<byte> stored = buffer.AsSpan(0, segment.StoredLength);
            _source.ReadExactly(segment.Offset, stored);
            ulong actual = ContainerFormat.Checksum(stored);
            if (actual != segment.Checksum)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.CorruptFrame,
                    $"segment {index} fails its checksum (expected {segment.Checksum:x16}, got {actual:x16}); the file is corrupt",
                    FilePath,
                    entry.Name,
                    segment.Offset);
            }

            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// Describes the delta without its base: the models it links and every tensor's mode, sizes and per-chunk
    /// transforms. Reads and structurally validates each delta segment (checksum and Z4AD layout) but decodes none.
    /// </summary>
    public ModelDeltaInfo Inspect()
    {
        ModelDeltaIndex index = Index;
        var tensors = new List<ModelDeltaTensorInfo>(index.Entries.Length);
        foreach (ModelDeltaEntry entry in index.Entries)
        {
            var modes = new List<DeltaChunkMode>();
            for (int j = 0; j < entry.Segments.Length; j++)
            {
                int length = (int)Math.Min(index.SegmentSize, entry.RawLength - ((long)j * index.SegmentSize));
                if (entry.Segments[j].Kind == ModelDeltaFormat.SegmentFrames)
                {
                    modes.AddRange(Enumerable.Repeat(DeltaChunkMode.Scratch, (int)ModelDeltaFormat.PartCount(length, index.ChunkSize)));
                    continue;
                }

                byte[] stored = ReadSegment(entry, j);
                try
                {
                    DeltaInfo info = Delta.BufferDelta.Inspect(stored.AsSpan(0, entry.Segments[j].StoredLength));
                    if (info.TargetLength != length || info.ChunkSize != index.ChunkSize || info.DType != entry.Tensor.DType)
                    {
                        throw new Z4AiFormatException(
                            Z4AiErrorKind.CorruptFrame,
                            $"segment {j} holds a delta of {info.TargetLength} bytes of {info.DType.GetName()} in chunks of {info.ChunkSize}; the index expects {length} bytes of {entry.Tensor.DType.GetName()} in chunks of {index.ChunkSize}",
                            FilePath,
                            entry.Name,
                            entry.Segments[j].Offset);
                    }

                    modes.AddRange(info.Chunks.Select(c => c.Mode));
                }
                catch (Z4AiFormatException ex) when (ex.TensorName is null)
                {
                    throw new Z4AiFormatException(ex.Kind, $"segment {j}: {ex.Detail}", FilePath, entry.Name, entry.Segments[j].Offset, ex);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(stored);
                }
            }

            tensors.Add(ModelDeltaWriter.Describe(entry, modes.AsReadOnly()));
        }

        return new ModelDeltaInfo(
            FilePath ?? string.Empty,
            FileLength,
            ModelDeltaFormat.Version,
            index.ChunkSize,
            index.FrameSize,
            index.SegmentSize,
            index.BaseModel.ToString(),
            index.BaseTensorCount,
            index.TargetModel.ToString(),
            index.HeaderSynthesized,
            index.Metadata,
            tensors.AsReadOnly());
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    private static ModelDeltaIndex LoadIndex(ContainerSource source)
    {
        long length = source.Length;
        const int minimum = ModelDeltaFormat.HeaderLength + ModelDeltaFormat.FooterLength;
        if (length < minimum)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"{length} bytes is too short for a model delta (at least {minimum})", offset: 0);
        }

        Span<byte> header = stackalloc byte[ModelDeltaFormat.HeaderLength];
        source.ReadExactly(0, header);
        if (!HasMagic(header))
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the file does not start with the model-delta magic \"Z4AM\"", offset: 0);
        }

        CheckVersion(header, 0, allowedFlags: 0);
        long footerOffset = length - ModelDeltaFormat.FooterLength;
        Span<byte> footer = stackalloc byte[ModelDeltaFormat.FooterLength];
        source.ReadExactly(footerOffset, footer);
        if (!HasMagic(footer))
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, "no footer magic at the end: the file is truncated or was never completed", offset: footerOffset);
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(footer[32..]) != ContainerFormat.Checksum(footer[..32]))
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the footer checksum does not match", offset: footerOffset);
        }

        CheckVersion(footer, footerOffset, ModelDeltaFormat.KnownFooterFlags);
        bool packed = (BinaryPrimitives.ReadUInt16LittleEndian(footer[6..]) & ModelDeltaFormat.FlagPackedIndex) != 0;
        ulong indexOffset = BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]);
        ulong indexLength = BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        ulong indexChecksum = BinaryPrimitives.ReadUInt64LittleEndian(footer[24..]);
        if (indexLength > ModelDeltaFormat.MaxIndexLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the index is {indexLength} bytes, more than the {ModelDeltaFormat.MaxIndexLength} allowed", offset: footerOffset + 16);
        }

        if (indexOffset < ModelDeltaFormat.HeaderLength || indexOffset > (ulong)footerOffset || (ulong)footerOffset - indexOffset != indexLength)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the footer places the index at [{indexOffset}, {indexOffset}+{indexLength}), but it must end where the footer starts, at {footerOffset}",
                offset: footerOffset + 8);
        }

        byte[] index = ArrayPool<byte>.Shared.Rent((int)indexLength);
        try
        {
            Span<byte> span = index.AsSpan(0, (int)indexLength);
            source.ReadExactly((long)indexOffset, span);
            if (ContainerFormat.Checksum(span) != indexChecksum)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the index checksum does not match", offset: (long)indexOffset);
            }

            if (!packed)
            {
                return ModelDeltaIndex.Parse(span, (long)indexOffset);
            }

            byte[] plain = ContainerIndexPacking.Unpack(span, (long)indexOffset, ModelDeltaFormat.MaxIndexLength, ModelDeltaFormat.MaxIndexLength);
            try
            {
                return ModelDeltaIndex.Parse(plain, (long)indexOffset);
            }
            catch (Z4AiFormatException ex) when (ex.Offset is not null)
            {
                // The parser's offsets count from indexOffset into the unpacked bytes: name that position instead.
                throw new Z4AiFormatException(
                    ex.Kind, $"{ex.Detail} (at byte {ex.Offset - (long)indexOffset} of the unpacked index)", tensorName: ex.TensorName, offset: (long)indexOffset, innerException: ex);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(index);
        }
    }

    private static void CheckVersion(ReadOnlySpan<byte> magicVersionFlags, long offset, ushort allowedFlags)
    {
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(magicVersionFlags[4..]);
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(magicVersionFlags[6..]);
        if (version != ModelDeltaFormat.Version)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"model-delta format version {version}; this reader knows version {ModelDeltaFormat.Version}", offset: offset + 4);
        }

        if ((flags & ~allowedFlags) != 0)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"model-delta flags 0x{flags:x4} name features this reader does not know", offset: offset + 6);
        }
    }
}
