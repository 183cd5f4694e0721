using System.Buffers;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Codecs;

/// <summary>
/// The self-describing frame of one compressed buffer (<c>Z4AiCodec</c>, the <c>.z4f</c> file): a small header, the
/// buffer cut into chunks each coded as a <see cref="TensorCodec"/> frame, and the SHA-256 of the raw bytes as a
/// trailer, so a writer can stream and a reader can verify in chunk-bounded memory. Byte layout: docs/format.md,
/// section 4.
/// </summary>
internal static class BufferFrame
{
    /// <summary>The format version this code writes and reads.</summary>
    public const byte Version = 1;

    /// <summary>The smallest chunk size a frame may declare (4 KiB).</summary>
    public const int MinChunkSize = 4096;

    /// <summary>The largest chunk size a frame may declare (64 MiB).</summary>
    public const int MaxChunkSize = 64 << 20;

    /// <summary>The default chunk size: 4 MiB, as in the container.</summary>
    public const int DefaultChunkSize = 4 << 20;

    /// <summary>The most dimensions a shape may have.</summary>
    public const int MaxRank = 64;

    /// <summary>Bytes of the SHA-256 trailer.</summary>
    public const int DigestLength = 32;

    private const byte ShapeFlag = 1;

    /// <summary>The four magic bytes, "Z4AF".</summary>
    public static ReadOnlySpan<byte> Magic => "Z4AF"u8;

    /// <summary>True when <paramref name="start"/> begins with the magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> start) => start.StartsWith(Magic);

    /// <summary>Appends the header.</summary>
    public static void WriteHeader(in BufferFrameHeader header, IBufferWriter<byte> output)
    {
        output.Write(Magic);
        Span<byte> fixedPart = output.GetSpan(3);
        fixedPart[0] = Version;
        fixedPart[1] = header.Shape is null ? (byte)0 : ShapeFlag;
        fixedPart[2] = (byte)header.DType;
        output.Advance(3);
        VarInt.Write(output, (ulong)header.RawLength);
        VarInt.Write(output, (ulong)header.ChunkSize);
        if (header.Shape is long[] shape)
        {
            VarInt.Write(output, (ulong)shape.Length);
            foreach (long d in shape)
            {
                VarInt.Write(output, (ulong)d);
            }
        }
    }

    /// <summary>
    /// Reads and validates the header: magic, version, flags, dtype, a chunk size that is a power of two in range,
    /// and a shape (when present) whose byte length equals the raw length.
    /// </summary>
    public static BufferFrameHeader ReadHeader(ref SpanReader reader)
    {
        if (!reader.ReadBytes(Magic.Length).SequenceEqual(Magic))
        {
            ThrowHelper.Format(Z4AiErrorKind.CorruptFrame, "not a Z4Ai buffer frame (the magic \"Z4AF\" is missing)", offset: 0);
        }

        byte version = reader.ReadByte();
        if (version != Version)
        {
            ThrowHelper.Format(Z4AiErrorKind.UnsupportedVersion, $"buffer frame version {version} is not supported (this reader knows {Version})", offset: 4);
        }

        byte flags = reader.ReadByte();
        if ((flags & ~ShapeFlag) != 0)
        {
            ThrowHelper.CorruptFrame($"buffer frame has unknown flags 0x{flags:x2}", 5);
        }

        byte dtypeByte = reader.ReadByte();
        if (dtypeByte >= DTypeInfo.Count)
        {
            ThrowHelper.CorruptFrame($"buffer frame names dtype {dtypeByte}, which does not exist", 6);
        }

        var dtype = (DType)dtypeByte;
        int at = reader.Position;
        ulong rawLength = reader.ReadVarUInt64();
        if (rawLength > long.MaxValue)
        {
            ThrowHelper.CorruptFrame($"buffer frame declares {rawLength} raw bytes", at);
        }

        at = reader.Position;
        ulong chunkSize = reader.ReadVarUInt64();
        if (chunkSize < MinChunkSize || chunkSize > MaxChunkSize || (chunkSize & (chunkSize - 1)) != 0)
        {
            ThrowHelper.CorruptFrame($"buffer frame chunk size {chunkSize} is not a power of two from {MinChunkSize} to {MaxChunkSize}", at);
        }

        long[]? shape = null;
        if ((flags & ShapeFlag) != 0)
        {
            at = reader.Position;
            int rank = reader.ReadVarInt32(MaxRank);
            shape = new long[rank];
            Span<ulong> dims = stackalloc ulong[MaxRank];
            for (int i = 0; i < rank; i++)
            {
                ulong d = reader.ReadVarUInt64();
                if (d > long.MaxValue)
                {
                    ThrowHelper.CorruptFrame($"buffer frame dimension {i} is {d}", at);
                }

                dims[i] = d;
                shape[i] = (long)d;
            }

            if (ShapeMath.TryGetByteLength(dtype, dims[..rank], out ulong bytes) != ShapeMath.Status.Ok || bytes != rawLength)
            {
                ThrowHelper.CorruptFrame($"buffer frame shape [{string.Join(",", shape)}] of {dtype.GetName()} does not hold {rawLength} bytes", at);
            }
        }

        return new BufferFrameHeader(dtype, (long)rawLength, (int)chunkSize, shape);
    }

    /// <summary>Appends one chunk record: the frame's length as a varint, then the frame.</summary>
    public static void WriteChunk(ReadOnlySpan<byte> frame, IBufferWriter<byte> output)
    {
        VarInt.Write(output, (ulong)frame.Length);
        output.Write(frame);
    }

    /// <summary>
    /// Reads chunk record <paramref name="index"/>: its frame must be 1 to raw + 11 bytes and declare exactly the
    /// chunk's raw length (checked here, before anything is decoded).
    /// </summary>
    public static ReadOnlySpan<byte> ReadChunk(ref SpanReader reader, in BufferFrameHeader header, long index)
    {
        int raw = header.ChunkLength(index);
        int at = reader.Position;
        int length = reader.ReadVarInt32(Math.Min(reader.Remaining, TensorCodec.GetMaxEncodedLength(raw)));
        if (length == 0)
        {
            ThrowHelper.CorruptFrame($"chunk {index} is empty", at);
        }

        ReadOnlySpan<byte> frame = reader.ReadBytes(length);
        (_, int declared, _) = TensorCodec.ReadHeader(frame);
        if (declared != raw)
        {
            ThrowHelper.CorruptFrame($"chunk {index} declares {declared} raw bytes, expected {raw}", at);
        }

        return frame;
    }

    /// <summary>
    /// Walks the whole frame without decoding: header, every chunk record, the trailer, and nothing after it.
    /// Returns the header and the byte offset of each chunk record (for parallel decoding).
    /// </summary>
    public static (BufferFrameHeader Header, int[] ChunkOffsets, int DigestOffset) Index(ReadOnlySpan<byte> frame)
    {
        var reader = new SpanReader(frame);
        BufferFrameHeader header = ReadHeader(ref reader);

        // Each chunk record takes at least two bytes, so the chunk count is bounded by the frame before the
        // offsets array is allocated.
        long chunks = header.ChunkCount;
        if (chunks > (reader.Remaining - DigestLength) / 2)
        {
            ThrowHelper.CorruptFrame($"buffer frame declares {header.RawLength} raw bytes in {chunks} chunks; {reader.Remaining} bytes cannot hold them");
        }

        int[] offsets = new int[chunks];
        for (long c = 0; c < chunks; c++)
        {
            offsets[c] = reader.Position;
            ReadChunk(ref reader, header, c);
        }

        int digestOffset = reader.Position;
        reader.ReadBytes(DigestLength);
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"buffer frame has {reader.Remaining} bytes after its SHA-256", reader.Position);
        }

        return (header, offsets, digestOffset);
    }

    /// <summary>
    /// Encodes <paramref name="raw"/> as a whole frame into <paramref name="output"/>, coding up to
    /// <paramref name="parallelism"/> chunks at once; the bytes do not depend on the parallelism.
    /// </summary>
    public static void Encode(
        ReadOnlySpan<byte> raw, DType dtype, long[]? shape, CompressionEffort effort, int chunkSize, int parallelism,
        IBufferWriter<byte> output, ReadOnlySpan<byte> sha256)
    {
        var header = new BufferFrameHeader(dtype, raw.Length, chunkSize, shape);
        WriteHeader(header, output);
        int rowLength = RowLength(shape);
        int chunks = (int)header.ChunkCount;
        if (parallelism <= 1 || chunks <= 1)
        {
            using var frame = new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(Math.Min(chunkSize, raw.Length)));
            for (int c = 0; c < chunks; c++)
            {
                frame.Clear();
                TensorCodec.Encode(raw.Slice(c * chunkSize, header.ChunkLength(c)), dtype, effort, frame, rowLength);
                WriteChunk(frame.WrittenSpan, output);
            }
        }
        else
        {
            EncodeParallel(raw, header, effort, parallelism, rowLength, output);
        }

        output.Write(sha256);
    }

    /// <summary>The row length the codec uses for a shape: its last dimension, when the shape has two or more.</summary>
    public static int RowLength(long[]? shape) => shape is { Length: >= 2 } && shape[^1] is > 0 and <= int.MaxValue ? (int)shape[^1] : 0;

    private static unsafe void EncodeParallel(
        ReadOnlySpan<byte> raw, BufferFrameHeader header, CompressionEffort effort, int parallelism, int rowLength, IBufferWriter<byte> output)
    {
        int chunks = (int)header.ChunkCount;
        int chunkSize = header.ChunkSize;
        DType dtype = header.DType;

        // Workers code chunks in batches of `parallelism` so at most that many frames are held; the caller's span
        // is pinned for the duration so workers can read it.
        fixed (byte* start = raw)
        {
            nint address = (nint)start;
            var frames = new ArrayPoolBufferWriter<byte>?[parallelism];
            try
            {
                for (int first = 0; first < chunks; first += parallelism)
                {
                    int batch = Math.Min(parallelism, chunks - first);
                    int batchStart = first;
                    ParallelChunks.For(batch, parallelism, k =>
                    {
                        int c = batchStart + k;
                        int n = header.ChunkLength(c);
                        var source = new ReadOnlySpan<byte>((byte*)address + ((long)c * chunkSize), n);
                        ArrayPoolBufferWriter<byte> frame = frames[k] ??= new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(n));
                        frame.Clear();
                        TensorCodec.Encode(source, dtype, effort, frame, rowLength);
                    });

                    for (int k = 0; k < batch; k++)
                    {
                        WriteChunk(frames[k]!.WrittenSpan, output);
                    }
                }
            }
            finally
            {
                foreach (ArrayPoolBufferWriter<byte>? frame in frames)
                {
                    frame?.Dispose();
                }
            }
        }
    }
}

/// <summary>The header fields of a <see cref="BufferFrame"/>.</summary>
internal readonly struct BufferFrameHeader
{
    public BufferFrameHeader(DType dtype, long rawLength, int chunkSize, long[]? shape)
    {
        DType = dtype;
        RawLength = rawLength;
        ChunkSize = chunkSize;
        Shape = shape;
    }

    /// <summary>The element type of the raw bytes.</summary>
    public DType DType { get; }

    /// <summary>Raw bytes the frame decodes to.</summary>
    public long RawLength { get; }

    /// <summary>Raw bytes per chunk (the last chunk may be shorter).</summary>
    public int ChunkSize { get; }

    /// <summary>The shape, when the frame records one.</summary>
    public long[]? Shape { get; }

    /// <summary>The number of chunks: ceil(raw length / chunk size).</summary>
    public long ChunkCount => (RawLength + ChunkSize - 1) / ChunkSize;

    /// <summary>The raw length of chunk <paramref name="index"/>.</summary>
    public int ChunkLength(long index) => (int)Math.Min(ChunkSize, RawLength - (index * ChunkSize));
}
