using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Z4Ai.Codecs;
using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// The container index: serialisation and validating parse. Pure span code; the reader and writer do the I/O.
/// The parse checks every count and length against the bytes that remain before allocating for it.
/// </summary>
internal sealed class ContainerIndex
{
    // Strict: a name that is not valid UTF-16 (a lone surrogate) must fail instead of turning into U+FFFD,
    // otherwise a tensor would come back under a different name.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ContainerIndex(int chunkSize, ContainerEntry[] entries, byte[]? originalHeader, Dictionary<string, string>? metadata)
    {
        ChunkSize = chunkSize;
        Entries = entries;
        OriginalHeader = originalHeader;
        Metadata = metadata;
    }

    /// <summary>The chunk size every tensor was split with.</summary>
    public int ChunkSize { get; }

    /// <summary>The entries, in index order (which is the data order of the original safetensors file).</summary>
    public ContainerEntry[] Entries { get; }

    /// <summary>The original safetensors header bytes (8-byte prefix plus JSON), or null.</summary>
    public byte[]? OriginalHeader { get; }

    /// <summary>The metadata, or null when none was stored.</summary>
    public Dictionary<string, string>? Metadata { get; }

    /// <summary>Encodes a string as strict UTF-8.</summary>
    /// <exception cref="ArgumentException">The string holds a lone surrogate.</exception>
    public static byte[] EncodeUtf8(string value, string paramName)
    {
        try
        {
            return StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"'{value}' is not valid Unicode text (it holds a lone surrogate)", paramName, ex);
        }
    }

    /// <summary>Checks that <paramref name="header"/> is a safetensors header: an 8-byte length N followed by N bytes.</summary>
    public static bool IsWellFormedSafeTensorsHeader(ReadOnlySpan<byte> header) =>
        header.Length is >= 8 and <= ContainerFormat.MaxOriginalHeaderLength
        && BinaryPrimitives.ReadUInt64LittleEndian(header) == (ulong)(header.Length - 8);

    /// <summary>Appends the index to <paramref name="output"/>. The arguments have been validated by the writer.</summary>
    /// <param name="output">Where the index goes.</param>
    /// <param name="chunkSize">The chunk size.</param>
    /// <param name="entries">The entries in index order.</param>
    /// <param name="originalHeader">The kept safetensors header, or null.</param>
    /// <param name="metadata">The metadata, or null.</param>
    /// <param name="packedForm">Write chunk records as a packed index stores them (docs/format.md 1.3a): the offset
    /// as a zigzag difference from the end of the frames so far, no raw length.</param>
    /// <param name="derivedHeader">Write the header as "derived" (presence 2 and the recipe, no bytes) instead of its
    /// bytes: only for a packed index, and only when <see cref="TryFindDerivation"/> found this recipe.</param>
    public static void Write(
        IBufferWriter<byte> output,
        int chunkSize,
        IReadOnlyList<ContainerEntry> entries,
        byte[]? originalHeader,
        IReadOnlyDictionary<string, string>? metadata,
        bool packedForm = false,
        HeaderDerivation? derivedHeader = null)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), (uint)chunkSize);
        output.Advance(4);
        long nextFrame = ContainerFormat.HeaderLength;
        VarInt.Write(output, (ulong)entries.Count);
        foreach (ContainerEntry entry in entries)
        {
            WriteBytes(output, EncodeUtf8(entry.Name, nameof(entries)));
            WriteByte(output, (byte)entry.DType);
            VarInt.Write(output, (ulong)entry.Shape.Length);
            foreach (long d in entry.Shape)
            {
                VarInt.Write(output, (ulong)d);
            }

            VarInt.Write(output, (ulong)entry.RawLength);
            output.Write(entry.Sha256);
            if (entry.DuplicateOf is int target)
            {
                WriteByte(output, ContainerFormat.EntryDuplicate);
                VarInt.Write(output, (ulong)target);
                continue;
            }

            WriteByte(output, ContainerFormat.EntryChunks);
            VarInt.Write(output, (ulong)entry.Chunks.Count);
            foreach (ContainerChunk chunk in entry.Chunks)
            {
                if (packedForm)
                {
                    VarInt.Write(output, ZigZag(chunk.Offset - nextFrame));
                    VarInt.Write(output, (ulong)chunk.StoredLength);
                    nextFrame = Math.Max(nextFrame, chunk.Offset + chunk.StoredLength);
                }
                else
                {
                    VarInt.Write(output, (ulong)chunk.Offset);
                    VarInt.Write(output, (ulong)chunk.StoredLength);
                    VarInt.Write(output, (ulong)chunk.RawLength);
                }

                WriteByte(output, chunk.Codec);
                BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), chunk.Checksum);
                output.Advance(8);
            }
        }

        if (originalHeader is null)
        {
            WriteByte(output, 0);
        }
        else if (derivedHeader is not null)
        {
            WriteByte(output, ContainerFormat.HeaderDerived);
            WriteByte(output, derivedHeader.MetadataLast ? (byte)1 : (byte)0);
            VarInt.Write(output, (ulong)derivedHeader.MetadataOrder.Length);
            foreach (int key in derivedHeader.MetadataOrder)
            {
                VarInt.Write(output, (ulong)key);
            }
        }
        else
        {
            WriteByte(output, 1);
            WriteBytes(output, originalHeader);
        }

        if (metadata is null)
        {
            WriteByte(output, 0);
            return;
        }

        // Keys are sorted by their UTF-8 bytes so the same dictionary always gives the same file.
        var pairs = new List<(byte[] Key, byte[] Value)>(metadata.Count);
        foreach (KeyValuePair<string, string> pair in metadata)
        {
            pairs.Add((EncodeUtf8(pair.Key, nameof(metadata)), EncodeUtf8(pair.Value, nameof(metadata))));
        }

        pairs.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        WriteByte(output, 1);
        VarInt.Write(output, (ulong)pairs.Count);
        foreach ((byte[] key, byte[] value) in pairs)
        {
            WriteBytes(output, key);
            WriteBytes(output, value);
        }
    }

    /// <summary>
    /// The safetensors header a "derived" header record stands for: the entries in index order with contiguous
    /// offsets from 0 and the metadata pairs in <paramref name="derivation"/>'s order as <c>__metadata__</c>, first
    /// or last, written as <see cref="SafeTensorsFormat.CreateLayout"/> writes JSON. Null when it would exceed
    /// <see cref="ContainerFormat.MaxOriginalHeaderLength"/> or the order does not fit the metadata.
    /// </summary>
    public static byte[]? DeriveHeader(IReadOnlyList<ContainerEntry> entries, IReadOnlyDictionary<string, string>? metadata, HeaderDerivation derivation)
    {
        KeyValuePair<string, string>[] sorted = SortedPairs(metadata);
        int[] order = derivation.MetadataOrder;
        if (order.Length != sorted.Length || (metadata is null && derivation.MetadataLast))
        {
            return null;
        }

        KeyValuePair<string, string>[]? pairs = metadata is null ? null : new KeyValuePair<string, string>[order.Length];
        bool[] used = new bool[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            if ((uint)order[i] >= (uint)order.Length || used[order[i]])
            {
                return null;
            }

            used[order[i]] = true;
            pairs![i] = sorted[order[i]];
        }

        var tensors = new (string, DType, long[], long)[entries.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            ContainerEntry e = entries[i];
            tensors[i] = (e.Name, e.DType, e.Shape, e.RawLength);
        }

        return SafeTensorsFormat.TryCreateHeader(tensors, pairs, derivation.MetadataLast, ContainerFormat.MaxOriginalHeaderLength - 8);
    }

    /// <summary>
    /// The recipe that rebuilds <paramref name="originalHeader"/> from the entries and metadata, when one does (the
    /// reference writer's layout, with <c>__metadata__</c> first or last in any key order); otherwise null.
    /// </summary>
    public static HeaderDerivation? TryFindDerivation(IReadOnlyList<ContainerEntry> entries, byte[] originalHeader, IReadOnlyDictionary<string, string>? metadata)
    {
        bool last = false;
        var keys = new List<string>();
        try
        {
            var reader = new System.Text.Json.Utf8JsonReader(originalHeader.AsSpan(8));
            reader.Read();
            int member = 0;
            int metadataAt = -1;
            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("__metadata__"u8))
                {
                    metadataAt = member;
                    reader.Read();
                    while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
                    {
                        keys.Add(reader.GetString()!);
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Skip();
                }

                member++;
            }

            last = metadataAt > 0 && metadataAt == member - 1;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        KeyValuePair<string, string>[] sorted = SortedPairs(metadata);
        var rank = new Dictionary<string, int>(sorted.Length, StringComparer.Ordinal);
        for (int i = 0; i < sorted.Length; i++)
        {
            rank[sorted[i].Key] = i;
        }

        int[] order = new int[keys.Count];
        for (int i = 0; i < order.Length; i++)
        {
            if (!rank.TryGetValue(keys[i], out order[i]))
            {
                return null;
            }
        }

        var derivation = new HeaderDerivation(last, order);
        byte[]? rebuilt = DeriveHeader(entries, metadata, derivation);
        return rebuilt is not null && rebuilt.AsSpan().SequenceEqual(originalHeader) ? derivation : null;
    }

    /// <summary>
    /// Parses and validates an index that starts at file offset <paramref name="indexOffset"/>; the data section is
    /// <c>[HeaderLength, indexOffset)</c>. Errors are <see cref="Z4AiFormatException"/> with absolute file offsets
    /// (for an unpacked index: the offset of the packed index, with the position in the unpacked bytes in the message).
    /// </summary>
    /// <param name="index">The plain index bytes (unpacked if the file stores them packed).</param>
    /// <param name="indexOffset">The file offset of the index.</param>
    /// <param name="limits">Read limits, or null for the defaults.</param>
    /// <param name="unpacked">True when <paramref name="index"/> was unpacked from a packed index: then the original
    /// header may be "derived" (presence 2) and error offsets refer to the unpacked bytes.</param>
    public static ContainerIndex Parse(ReadOnlySpan<byte> index, long indexOffset, ReadLimits? limits = null, bool unpacked = false)
    {
        limits ??= ReadLimits.Default;
        string? current = null;
        var chunksByOffset = new Dictionary<long, ContainerChunk>();
        ContainerIndex result;
        try
        {
            result = ParseCore(index, indexOffset, chunksByOffset, limits, unpacked, ref current);
        }
        catch (Z4AiFormatException ex) when (unpacked)
        {
            throw new Z4AiFormatException(
                ex.Kind, $"{ex.Detail} (at byte {ex.Offset} of the unpacked index)", tensorName: current, offset: indexOffset, innerException: ex);
        }
        catch (Z4AiFormatException ex)
        {
            // Every throw inside the parse carries an index-relative offset; make it absolute and name the tensor.
            throw new Z4AiFormatException(ex.Kind, ex.Detail, tensorName: current, offset: ex.Offset + indexOffset, innerException: ex);
        }

        CheckDataTiling(chunksByOffset, indexOffset);
        return result;
    }

    private static ContainerIndex ParseCore(
        ReadOnlySpan<byte> index,
        long indexOffset,
        Dictionary<long, ContainerChunk> chunksByOffset,
        ReadLimits limits,
        bool unpacked,
        ref string? current)
    {
        var reader = new SpanReader(index, Z4AiErrorKind.InvalidContainer);
        uint chunkSizeRaw = reader.ReadUInt32();
        if (chunkSizeRaw > ContainerFormat.MaxChunkSize)
        {
            Fail(Z4AiErrorKind.LimitExceeded, $"chunk size {chunkSizeRaw} exceeds the limit of {ContainerFormat.MaxChunkSize}", 0);
        }

        if (!ContainerFormat.IsValidChunkSize(chunkSizeRaw))
        {
            Fail(Z4AiErrorKind.InvalidContainer, $"chunk size {chunkSizeRaw} is not a power of two from {ContainerFormat.MinChunkSize} to {ContainerFormat.MaxChunkSize}", 0);
        }

        if (chunkSizeRaw > (uint)limits.MaxChunkBytes)
        {
            Fail(Z4AiErrorKind.LimitExceeded, $"chunk size {chunkSizeRaw} exceeds the read limit of {limits.MaxChunkBytes}", 0);
        }

        int chunkSize = (int)chunkSizeRaw;
        int countAt = reader.Position;
        ulong count = reader.ReadVarUInt64();
        if (count > (ulong)(reader.Remaining / ContainerFormat.MinEntryLength))
        {
            Fail(Z4AiErrorKind.InvalidContainer, $"index declares {count} tensors but its remaining {reader.Remaining} bytes hold at most {reader.Remaining / ContainerFormat.MinEntryLength}", countAt);
        }

        if (count > (ulong)limits.MaxTensorCount)
        {
            Fail(Z4AiErrorKind.LimitExceeded, $"index declares {count} tensors, more than the read limit of {limits.MaxTensorCount}", countAt);
        }

        var entries = new ContainerEntry[(int)count];
        long nextFrame = ContainerFormat.HeaderLength;
        var names = new Dictionary<string, int>((int)count, StringComparer.Ordinal);
        for (int e = 0; e < entries.Length; e++)
        {
            current = null;
            int entryAt = reader.Position;
            int nameLength = reader.ReadVarInt32(reader.Remaining);
            string name = DecodeUtf8(reader.ReadBytes(nameLength), "tensor name", entryAt);
            current = name;
            if (!names.TryAdd(name, e))
            {
                Fail(Z4AiErrorKind.DuplicateKey, $"tensor name appears twice in the index (entries {names[name]} and {e})", entryAt);
            }

            int dtypeAt = reader.Position;
            byte dtypeByte = reader.ReadByte();
            if (dtypeByte >= DTypeInfo.Count)
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"unknown dtype code {dtypeByte}", dtypeAt);
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
                    Fail(Z4AiErrorKind.InvalidContainer, $"dimension {i} is {d}, beyond the signed 64-bit range", dimAt);
                }

                shape[i] = (long)d;
            }

            int rawAt = reader.Position;
            ulong raw = reader.ReadVarUInt64();
            ulong expectedRaw = ShapeMath.TryGetByteLength(dtype, MemoryMarshalShape(shape), out ulong bytes) switch
            {
                ShapeMath.Status.Ok => bytes,
                _ => Fail<ulong>(Z4AiErrorKind.InvalidContainer, $"the shape [{string.Join(",", shape)}] of {dtype.GetName()} has no valid byte length", rawAt),
            };
            if (raw != expectedRaw || raw > long.MaxValue)
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"raw length {raw} does not match the {expectedRaw} bytes of {dtype.GetName()}[{string.Join(",", shape)}]", rawAt);
            }

            long rawLength = (long)raw;
            byte[] sha = reader.ReadBytes(32).ToArray();
            int kindAt = reader.Position;
            byte kind = reader.ReadByte();
            if (kind == ContainerFormat.EntryDuplicate)
            {
                int target = reader.ReadVarInt32();
                ContainerEntry? original = target < e ? entries[target] : null;
                if (original is null || original.DuplicateOf is not null || rawLength == 0
                    || original.DType != dtype || original.RawLength != rawLength || !original.Sha256.AsSpan().SequenceEqual(sha))
                {
                    Fail(Z4AiErrorKind.InvalidContainer, $"entry {e} claims to repeat entry {target}, which is not an earlier stored tensor with the same dtype, length and SHA-256", kindAt);
                }

                entries[e] = new ContainerEntry(e, name, dtype, shape, rawLength, sha, original.Chunks, 0, target);
                continue;
            }

            if (kind != ContainerFormat.EntryChunks)
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"unknown entry storage kind {kind}", kindAt);
            }

            long expectedChunks = ContainerFormat.ChunkCount(rawLength, chunkSize);
            int chunkCountAt = reader.Position;
            if (expectedChunks > reader.Remaining / (unpacked ? ContainerFormat.MinPackedChunkRecordLength : ContainerFormat.MinChunkRecordLength))
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"a tensor of {rawLength} bytes needs {expectedChunks} chunks of {chunkSize}, but the remaining {reader.Remaining} index bytes cannot hold them", chunkCountAt);
            }

            ulong chunkCount = reader.ReadVarUInt64();
            if (chunkCount != (ulong)expectedChunks)
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"the chunk table has {chunkCount} chunks; {rawLength} bytes in chunks of {chunkSize} need {expectedChunks}", chunkCountAt);
            }

            var chunks = new ContainerChunk[(int)chunkCount];
            long stored = 0;
            for (int c = 0; c < chunks.Length; c++)
            {
                int chunkAt = reader.Position;
                long expectedChunkRaw = c < chunks.Length - 1 ? chunkSize : rawLength - ((long)c * chunkSize);
                ulong offset;
                int storedLength;
                int chunkRaw;
                if (unpacked)
                {
                    // Packed form: the offset relative to where the next new frame would start, no raw length.
                    long delta = ZigZag(reader.ReadVarUInt64());
                    Int128 absolute = (Int128)nextFrame + delta;
                    offset = absolute < 0 || absolute > long.MaxValue ? ulong.MaxValue : (ulong)(long)absolute;
                    storedLength = reader.ReadVarInt32();
                    chunkRaw = (int)expectedChunkRaw;
                }
                else
                {
                    offset = reader.ReadVarUInt64();
                    storedLength = reader.ReadVarInt32();
                    chunkRaw = reader.ReadVarInt32();
                }

                byte codec = reader.ReadByte();
                ulong checksum = reader.ReadUInt64();
                if (chunkRaw != expectedChunkRaw)
                {
                    Fail(Z4AiErrorKind.InvalidContainer, $"chunk {c} declares {chunkRaw} raw bytes, expected {expectedChunkRaw}: the chunks must sum to the tensor's {rawLength} bytes", chunkAt);
                }

                if (storedLength < 1 || storedLength > TensorCodec.GetMaxEncodedLength(chunkRaw))
                {
                    Fail(Z4AiErrorKind.InvalidContainer, $"chunk {c} stores {storedLength} bytes for {chunkRaw} raw bytes; a frame holds 1 to {TensorCodec.GetMaxEncodedLength(chunkRaw)}", chunkAt);
                }

                if (offset < ContainerFormat.HeaderLength || offset > (ulong)indexOffset || (ulong)indexOffset - offset < (ulong)storedLength)
                {
                    Fail(Z4AiErrorKind.InvalidContainer, $"chunk {c} at file offset {offset} with {storedLength} bytes lies outside the data section [{ContainerFormat.HeaderLength}, {indexOffset})", chunkAt);
                }

                var chunk = new ContainerChunk((long)offset, storedLength, chunkRaw, codec, checksum);
                nextFrame = Math.Max(nextFrame, chunk.Offset + storedLength);
                if (chunksByOffset.TryGetValue(chunk.Offset, out ContainerChunk? shared))
                {
                    // A chunk whose bytes an earlier chunk already holds points at that frame; both records must agree.
                    if (shared != chunk)
                    {
                        Fail(Z4AiErrorKind.InvalidContainer, $"chunk {c} at file offset {offset} disagrees with an earlier chunk record for the same frame", chunkAt);
                    }

                    chunk = shared;
                }
                else
                {
                    chunksByOffset.Add(chunk.Offset, chunk);
                    stored += storedLength;
                }

                chunks[c] = chunk;
            }

            entries[e] = new ContainerEntry(e, name, dtype, shape, rawLength, sha, Array.AsReadOnly(chunks), stored, null);
        }

        current = null;
        int headerAt = reader.Position;
        byte[]? header = ReadOriginalHeader(ref reader, unpacked, out HeaderDerivation? derived);
        Dictionary<string, string>? metadata = ReadMetadata(ref reader);
        if (reader.Remaining != 0)
        {
            Fail(Z4AiErrorKind.InvalidContainer, $"{reader.Remaining} unexpected bytes after the metadata", reader.Position);
        }

        if (derived is not null)
        {
            if (derived.MetadataOrder.Length != (metadata?.Count ?? 0) || (metadata is null && derived.MetadataLast))
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"the derived header orders {derived.MetadataOrder.Length} metadata keys, but the index holds {metadata?.Count ?? 0}", headerAt);
            }

            header = DeriveHeader(entries, metadata, derived)
                ?? Fail<byte[]>(
                    Z4AiErrorKind.InvalidContainer,
                    $"the derived safetensors header cannot be rebuilt: its key order is not a permutation, or it would exceed the {ContainerFormat.MaxOriginalHeaderLength} bytes allowed",
                    headerAt);
        }

        return new ContainerIndex(chunkSize, entries, header, metadata);
    }

    // The frames must tile the data section exactly: no gaps (hidden bytes), no overlaps, nothing after the last.
    private static void CheckDataTiling(Dictionary<long, ContainerChunk> chunksByOffset, long indexOffset)
    {
        long[] offsets = [.. chunksByOffset.Keys];
        Array.Sort(offsets);
        long position = ContainerFormat.HeaderLength;
        foreach (long offset in offsets)
        {
            if (offset != position)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.InvalidContainer,
                    offset > position ? $"the data section has {offset - position} bytes no chunk accounts for" : "two chunk frames overlap",
                    offset: position);
            }

            position += chunksByOffset[offset].StoredLength;
        }

        if (position != indexOffset)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the chunk frames end at file offset {position} but the index starts at {indexOffset}",
                offset: position);
        }
    }

    private static byte[]? ReadOriginalHeader(ref SpanReader reader, bool unpacked, out HeaderDerivation? derived)
    {
        int at = reader.Position;
        byte present = reader.ReadByte();
        derived = null;
        if (present == 0)
        {
            return null;
        }

        if (unpacked && present == ContainerFormat.HeaderDerived)
        {
            int placementAt = reader.Position;
            byte placement = reader.ReadByte();
            if (placement > 1)
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"derived-header placement is {placement}, expected 0 (metadata first) or 1 (last)", placementAt);
            }

            int countAt = reader.Position;
            int count = reader.ReadVarInt32();
            if (count > reader.Remaining)
            {
                Fail(Z4AiErrorKind.InvalidContainer, $"the derived header orders {count} metadata keys but only {reader.Remaining} bytes remain", countAt);
            }

            int[] order = new int[count];
            for (int i = 0; i < count; i++)
            {
                order[i] = reader.ReadVarInt32();
            }

            derived = new HeaderDerivation(placement == 1, order);
            return null;
        }

        if (present != 1)
        {
            Fail(Z4AiErrorKind.InvalidContainer, $"original-header presence byte is {present}, expected {(unpacked ? "0, 1 or 2" : "0 or 1")}", at);
        }

        int lengthAt = reader.Position;
        ulong length = reader.ReadVarUInt64();
        if (length > ContainerFormat.MaxOriginalHeaderLength)
        {
            Fail(Z4AiErrorKind.LimitExceeded, $"the original safetensors header is {length} bytes, more than the {ContainerFormat.MaxOriginalHeaderLength} allowed", lengthAt);
        }

        byte[] header = reader.ReadBytes((int)length).ToArray();
        if (!IsWellFormedSafeTensorsHeader(header))
        {
            Fail(Z4AiErrorKind.InvalidContainer, "the original safetensors header's 8-byte length prefix does not match its length", lengthAt);
        }

        return header;
    }

    private static Dictionary<string, string>? ReadMetadata(ref SpanReader reader)
    {
        int at = reader.Position;
        byte present = reader.ReadByte();
        if (present == 0)
        {
            return null;
        }

        if (present != 1)
        {
            Fail(Z4AiErrorKind.InvalidContainer, $"metadata presence byte is {present}, expected 0 or 1", at);
        }

        int countAt = reader.Position;
        int count = reader.ReadVarInt32();
        if (count > reader.Remaining / 2)
        {
            Fail(Z4AiErrorKind.InvalidContainer, $"metadata declares {count} pairs but only {reader.Remaining} bytes remain", countAt);
        }

        var metadata = new Dictionary<string, string>(count, StringComparer.Ordinal);
        ReadOnlySpan<byte> previous = default;
        for (int i = 0; i < count; i++)
        {
            int keyAt = reader.Position;
            ReadOnlySpan<byte> key = reader.ReadBytes(reader.ReadVarInt32(reader.Remaining));
            if (i > 0 && key.SequenceCompareTo(previous) <= 0)
            {
                Fail(Z4AiErrorKind.InvalidContainer, "metadata keys are not in strictly ascending byte order", keyAt);
            }

            previous = key;
            int valueAt = reader.Position;
            ReadOnlySpan<byte> value = reader.ReadBytes(reader.ReadVarInt32(reader.Remaining));
            metadata.Add(DecodeUtf8(key, "metadata key", keyAt), DecodeUtf8(value, "metadata value", valueAt));
        }

        return metadata;
    }

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private static long ZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    // The metadata pairs in the order the index stores them (keys ascending by their UTF-8 bytes).
    private static KeyValuePair<string, string>[] SortedPairs(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return [];
        }

        KeyValuePair<string, string>[] pairs = [.. metadata];
        Array.Sort(pairs, static (a, b) => SafeTensorsFormat.CompareUtf8(a.Key, b.Key));
        return pairs;
    }

    private static ReadOnlySpan<ulong> MemoryMarshalShape(long[] shape) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<long, ulong>(shape.AsSpan());

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes, string what, int at)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Fail<string>(Z4AiErrorKind.InvalidContainer, $"the {what} is not valid UTF-8", at);
        }
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        VarInt.Write(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(Z4AiErrorKind kind, string message, int relativeOffset) =>
        throw new Z4AiFormatException(kind, message, offset: relativeOffset);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static T Fail<T>(Z4AiErrorKind kind, string message, int relativeOffset) =>
        throw new Z4AiFormatException(kind, message, offset: relativeOffset);
}

/// <summary>
/// How a derived header record rebuilds the original safetensors header: where <c>__metadata__</c> goes and the order
/// of its keys (indices into the keys sorted by their UTF-8 bytes, as the index stores them).
/// </summary>
internal sealed record HeaderDerivation(bool MetadataLast, int[] MetadataOrder);
