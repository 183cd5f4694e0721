using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Codecs;
using Z4Ai.Format;
using Z4Ai.Internal;

namespace Z4Ai;

/// <summary>
/// The lossless codec for one buffer of weights, outside any container: <see cref="Compress(ReadOnlySpan{byte}, DType, CodecOptions?)"/>
/// returns a self-describing frame (dtype, optional shape, chunks, SHA-256) and <see cref="Decompress(ReadOnlySpan{byte})"/>
/// restores the exact bytes after checking them against that SHA-256. The frame layout is in docs/format.md
/// (section 4); the file extension is <see cref="FileExtension"/>.
/// </summary>
/// <remarks>
/// Each chunk is analysed and coded on its own (dead mantissa bits, palettes, zero masks, float fields with
/// entropy-coded exponents, ...; see <see cref="CompressionEffort"/>), so the frame is never larger than the input
/// plus a small header: 16 bytes, the shape, 32 bytes of digest and at most 15 bytes per chunk. The same input and
/// options give the same bytes whatever the parallelism. Malformed frames raise <see cref="Z4AiFormatException"/>
/// before anything larger than their declared sizes is allocated; a frame whose bytes decode but do not match
/// the digest raises <see cref="Z4AiIntegrityException"/>.
/// </remarks>
public static class Z4AiCodec
{
    /// <summary>The conventional extension of a file holding one frame.</summary>
    public const string FileExtension = ".z4f";

    private const string Subject = "buffer";

    /// <summary>True when <paramref name="start"/> (the first bytes of a file or buffer) begins like a frame.</summary>
    public static bool IsFrame(ReadOnlySpan<byte> start) => BufferFrame.HasMagic(start);

    /// <summary>The largest frame <see cref="Compress(ReadOnlySpan{byte}, DType, CodecOptions?)"/> can return for
    /// <paramref name="rawLength"/> bytes with the given options.</summary>
    public static long GetMaxCompressedLength(long rawLength, CodecOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rawLength);
        options ??= CodecOptions.Default;
        options.Validate();
        long chunks = (rawLength + options.ChunkSize - 1) / options.ChunkSize;
        long shape = options.Shape is null ? 0 : VarInt.MaxLength * (1L + options.Shape.Count);
        return 7 + (2 * VarInt.MaxLength) + shape + rawLength + (chunks * (TensorCodec.MaxHeaderLength + 5)) + BufferFrame.DigestLength;
    }

    /// <summary>Compresses raw little-endian elements of <paramref name="dtype"/> into a new frame.</summary>
    /// <exception cref="ArgumentException">The options are invalid, or the shape does not describe the bytes.</exception>
    public static byte[] Compress(ReadOnlySpan<byte> data, DType dtype, CodecOptions? options = null)
    {
        options ??= CodecOptions.Default;
        options.Validate();
        long[]? shape = CheckShape(data.Length, dtype, options.Shape);
        using var output = new ArrayPoolBufferWriter<byte>(Math.Max(256, (data.Length / 2) + 256));
        byte[] digest = new byte[SHA256.HashSizeInBytes];
        if (options.MaxDegreeOfParallelism <= 1 || data.Length < options.ChunkSize)
        {
            SHA256.HashData(data, digest);
            BufferFrame.Encode(data, dtype, shape, options.Effort, options.ChunkSize, options.MaxDegreeOfParallelism, output, digest);
            return output.WrittenSpan.ToArray();
        }

        // The SHA-256 is a serial pass over the input: run it beside the chunk encoders and write it into the
        // frame's last bytes (where the digest goes) once both are done.
        byte[] frame = EncodeHashingAside(data, dtype, shape, options, output, digest);
        digest.CopyTo(frame.AsSpan(frame.Length - BufferFrame.DigestLength));
        return frame;
    }

    private static unsafe byte[] EncodeHashingAside(
        ReadOnlySpan<byte> data, DType dtype, long[]? shape, CodecOptions options, ArrayPoolBufferWriter<byte> output, byte[] digest)
    {
        fixed (byte* start = data)
        {
            nint address = (nint)start;
            int length = data.Length;
            Task hashing = Task.Factory.StartNew(
                () => SHA256.HashData(new ReadOnlySpan<byte>((byte*)address, length), digest),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            try
            {
                BufferFrame.Encode(data, dtype, shape, options.Effort, options.ChunkSize, options.MaxDegreeOfParallelism, output, new byte[BufferFrame.DigestLength]);
            }
            finally
            {
                // The hashing thread reads the pinned input: it must finish before the pin is released.
                hashing.Wait();
            }

            return output.WrittenSpan.ToArray();
        }
    }

    /// <summary>Compresses typed values (<typeparamref name="T"/> must be as wide as one element of
    /// <paramref name="dtype"/>, such as <see cref="float"/> for F32 or <see cref="ushort"/> for BF16) and records the shape.</summary>
    /// <param name="values">The elements.</param>
    /// <param name="dtype">Their element type.</param>
    /// <param name="shape">The dimensions (their product must be the element count), or empty to record none.</param>
    /// <param name="options">Effort, chunk size, parallelism; its <see cref="CodecOptions.Shape"/> is ignored.</param>
    public static byte[] Compress<T>(ReadOnlySpan<T> values, DType dtype, ReadOnlySpan<long> shape, CodecOptions? options = null)
        where T : unmanaged
    {
        CheckElementType<T>(dtype);
        options ??= CodecOptions.Default;
        var withShape = new CodecOptions
        {
            Effort = options.Effort,
            ChunkSize = options.ChunkSize,
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
            Shape = shape.IsEmpty ? null : shape.ToArray(),
        };
        return Compress(MemoryMarshal.AsBytes(values), dtype, withShape);
    }

    /// <summary>Compresses a tensor; the frame records its dtype and shape, so <see cref="DecompressTensor"/> restores both.</summary>
    public static byte[] Compress(Tensor tensor, CodecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        options ??= CodecOptions.Default;
        return Compress(tensor.Data.Span, tensor.DType, new CodecOptions
        {
            Effort = options.Effort,
            ChunkSize = options.ChunkSize,
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
            Shape = tensor.GetShape(),
        });
    }

    /// <summary>
    /// Compresses <paramref name="length"/> bytes read from <paramref name="source"/> into <paramref name="destination"/>,
    /// holding only a few chunks in memory.
    /// </summary>
    /// <exception cref="EndOfStreamException">The source ends before <paramref name="length"/> bytes.</exception>
    public static void Compress(Stream source, long length, Stream destination, DType dtype, CodecOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        options ??= CodecOptions.Default;
        options.Validate();
        long[]? shape = CheckShape(length, dtype, options.Shape);
        var header = new BufferFrameHeader(dtype, length, options.ChunkSize, shape);
        using var output = new ArrayPoolBufferWriter<byte>(256);
        BufferFrame.WriteHeader(header, output);
        destination.Write(output.WrittenSpan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int rowLength = BufferFrame.RowLength(shape);
        int batch = options.MaxDegreeOfParallelism;
        long chunks = header.ChunkCount;
        byte[][] raw = new byte[Math.Min(batch, Math.Max(1, chunks))][];
        var frames = new ArrayPoolBufferWriter<byte>[raw.Length];
        try
        {
            for (long first = 0; first < chunks; first += raw.Length)
            {
                int count = (int)Math.Min(raw.Length, chunks - first);
                for (int k = 0; k < count; k++)
                {
                    int n = header.ChunkLength(first + k);
                    raw[k] ??= ArrayPool<byte>.Shared.Rent(options.ChunkSize);
                    source.ReadExactly(raw[k], 0, n);
                    hash.AppendData(raw[k], 0, n);
                }

                long batchFirst = first;
                ParallelChunks.For(count, options.MaxDegreeOfParallelism, k =>
                {
                    int n = header.ChunkLength(batchFirst + k);
                    ArrayPoolBufferWriter<byte> frame = frames[k] ??= new ArrayPoolBufferWriter<byte>(TensorCodec.GetMaxEncodedLength(n));
                    frame.Clear();
                    TensorCodec.Encode(raw[k].AsSpan(0, n), dtype, options.Effort, frame, rowLength);
                });

                for (int k = 0; k < count; k++)
                {
                    output.Clear();
                    BufferFrame.WriteChunk(frames[k].WrittenSpan, output);
                    destination.Write(output.WrittenSpan);
                }
            }

            destination.Write(hash.GetHashAndReset());
        }
        finally
        {
            foreach (byte[]? buffer in raw)
            {
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            foreach (ArrayPoolBufferWriter<byte>? frame in frames)
            {
                frame?.Dispose();
            }
        }
    }

    /// <summary>Decompresses a frame into a new array and verifies its SHA-256.</summary>
    /// <exception cref="Z4AiFormatException">The frame is malformed or truncated, or decodes to more than an array holds.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> frame)
    {
        (BufferFrameHeader header, int[] offsets, int digestOffset) = BufferFrame.Index(frame);
        if (header.RawLength > Array.MaxLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"the buffer is {header.RawLength} bytes, more than an array holds; decompress it to a stream");
        }

        byte[] result = GC.AllocateUninitializedArray<byte>((int)header.RawLength);
        DecodeInto(frame, header, offsets, digestOffset, result);
        return result;
    }

    /// <summary>Decompresses a frame into exactly <paramref name="destination"/> and verifies its SHA-256; returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is not exactly the frame's raw length.</exception>
    public static int Decompress(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        (BufferFrameHeader header, int[] offsets, int digestOffset) = BufferFrame.Index(frame);
        if (header.RawLength != destination.Length)
        {
            throw new ArgumentException($"the frame holds {header.RawLength} bytes; the destination holds {destination.Length}", nameof(destination));
        }

        DecodeInto(frame, header, offsets, digestOffset, destination);
        return destination.Length;
    }

    /// <summary>Decompresses a frame into typed values (<typeparamref name="T"/> as wide as one element of the frame's dtype).</summary>
    public static T[] Decompress<T>(ReadOnlySpan<byte> frame)
        where T : unmanaged
    {
        (BufferFrameHeader header, int[] offsets, int digestOffset) = BufferFrame.Index(frame);
        CheckElementType<T>(header.DType);
        int size = Marshal.SizeOf<T>();
        if (header.RawLength / size > Array.MaxLength)
        {
            ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"the buffer is {header.RawLength} bytes, more than an array holds");
        }

        var result = GC.AllocateUninitializedArray<T>((int)(header.RawLength / size));
        DecodeInto(frame, header, offsets, digestOffset, MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>Decompresses a frame into a tensor with the recorded dtype and shape (a flat shape when none was recorded).</summary>
    public static Tensor DecompressTensor(ReadOnlySpan<byte> frame)
    {
        (BufferFrameHeader header, _, _) = BufferFrame.Index(frame);
        byte[] data = Decompress(frame);
        long[] shape = header.Shape ?? (header.DType.BitSize() == 0 ? [] : [data.LongLength * 8 / header.DType.BitSize()]);
        return new Tensor(header.DType, shape, data);
    }

    /// <summary>
    /// Decompresses a frame read from <paramref name="source"/> into <paramref name="destination"/> in chunk-bounded
    /// memory. The SHA-256 is known only at the end: on <see cref="Z4AiIntegrityException"/> the bytes already written
    /// must be discarded.
    /// </summary>
    /// <returns>The frame's header facts (dtype, shape, raw length).</returns>
    public static CodecFrameInfo Decompress(Stream source, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        return Walk(source, destination, inspect: false);
    }

    /// <summary>
    /// Describes a frame: dtype, shape, sizes, the recipe of each chunk, every stream with its coder and bits per
    /// element, and the sign/exponent/mantissa entropies of the data. The frame is fully decoded and verified.
    /// </summary>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public static CodecFrameInfo Inspect(ReadOnlySpan<byte> frame)
    {
        (BufferFrameHeader header, int[] offsets, int digestOffset) = BufferFrame.Index(frame);
        using var inspector = new FrameInspection(header);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(header.ChunkSize, (int)Math.Min(int.MaxValue, header.RawLength)));
        try
        {
            for (int c = 0; c < offsets.Length; c++)
            {
                var reader = new SpanReader(frame[offsets[c]..]);
                ReadOnlySpan<byte> chunk = BufferFrame.ReadChunk(ref reader, header, c);
                Span<byte> raw = buffer.AsSpan(0, header.ChunkLength(c));
                inspector.Add(chunk, raw);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return inspector.Finish(frame.Length, frame.Slice(digestOffset, BufferFrame.DigestLength));
    }

    /// <summary>Describes a frame read from a stream, decoding it chunk by chunk (see <see cref="Inspect(ReadOnlySpan{byte})"/>).</summary>
    public static CodecFrameInfo Inspect(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Walk(source, null, inspect: true);
    }

    /// <summary>
    /// Describes one tensor of a <c>.z4ai</c> container the same way as <see cref="Inspect(ReadOnlySpan{byte})"/>:
    /// the recipe and streams of each of its chunks, verified against the tensor's SHA-256.
    /// </summary>
    /// <exception cref="Z4AiTensorNotFoundException">The container has no such tensor.</exception>
    public static CodecFrameInfo InspectContainerTensor(string path, string tensorName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensorName);
        using ContainerReader reader = ContainerReader.Open(path);
        if (!reader.TryGetTensor(tensorName, out ContainerEntry? entry))
        {
            throw new Z4AiTensorNotFoundException(tensorName, path);
        }

        ContainerEntry owner = entry.DuplicateOf is int d ? reader.Tensors[d] : entry;
        var header = new BufferFrameHeader(entry.DType, entry.RawLength, reader.ChunkSize, entry.Shape);
        using var inspector = new FrameInspection(header);
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(path);
        int largest = owner.Chunks.Count == 0 ? 0 : owner.Chunks.Max(c => Math.Max(c.StoredLength, c.RawLength));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(2 * Math.Max(1, largest));
        long frames = 0;
        try
        {
            foreach (ContainerChunk chunk in owner.Chunks)
            {
                Span<byte> frame = buffer.AsSpan(0, chunk.StoredLength);
                RandomAccess.Read(handle, frame, chunk.Offset);
                if (ContainerFormat.Checksum(frame) != chunk.Checksum)
                {
                    throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, "a chunk fails its checksum", path, tensorName, chunk.Offset);
                }

                inspector.Add(frame, buffer.AsSpan(chunk.StoredLength, chunk.RawLength));
                frames += chunk.StoredLength;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return inspector.Finish(frames, entry.Sha256);
    }

    // Chunks decode on every core while the calling thread hashes the finished ones in order, so the SHA-256 (a
    // serial pass about as slow as decoding on one core) overlaps decoding instead of following it.
    private static unsafe void DecodeInto(ReadOnlySpan<byte> frame, in BufferFrameHeader header, int[] offsets, int digestOffset, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        fixed (byte* source = frame)
        fixed (byte* target = destination)
        {
            nint sourceAddress = (nint)source;
            nint targetAddress = (nint)target;
            int frameLength = frame.Length;
            BufferFrameHeader h = header;
            ParallelChunks.ForOrdered(
                offsets.Length,
                Environment.ProcessorCount,
                c =>
                {
                    var all = new ReadOnlySpan<byte>((byte*)sourceAddress, frameLength);
                    var reader = new SpanReader(all[offsets[c]..]);
                    ReadOnlySpan<byte> chunk = BufferFrame.ReadChunk(ref reader, h, c);
                    TensorCodec.Decode(chunk, ChunkSpan(targetAddress, h, c));
                },
                c => hash.AppendData(ChunkSpan(targetAddress, h, c)));
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(actual);
        CheckDigest(actual, frame.Slice(digestOffset, BufferFrame.DigestLength));
    }

    private static unsafe Span<byte> ChunkSpan(nint address, in BufferFrameHeader header, int chunk) =>
        new((byte*)address + ((long)chunk * header.ChunkSize), header.ChunkLength(chunk));

    private static void CheckDigest(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected)
    {
        if (!actual.SequenceEqual(expected))
        {
            throw new Z4AiIntegrityException(Subject, Convert.ToHexStringLower(expected), Convert.ToHexStringLower(actual));
        }
    }

    // Reads a frame from a stream chunk by chunk: decodes into `destination` (when given) and/or gathers the inspection.
    private static CodecFrameInfo Walk(Stream source, Stream? destination, bool inspect)
    {
        BufferFrameHeader header = ReadHeader(source, out int headerLength);
        long frameLength = headerLength;
        using FrameInspection? inspector = inspect ? new FrameInspection(header) : null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int rawMax = (int)Math.Min(header.ChunkSize, header.RawLength);
        byte[] raw = ArrayPool<byte>.Shared.Rent(Math.Max(1, rawMax));
        byte[] frame = ArrayPool<byte>.Shared.Rent(TensorCodec.GetMaxEncodedLength(Math.Max(1, rawMax)) + VarInt.MaxLength);
        try
        {
            for (long c = 0; c < header.ChunkCount; c++)
            {
                int chunkRaw = header.ChunkLength(c);
                int prefixLength = ReadVarIntBytes(source, frame);
                var prefix = new SpanReader(frame.AsSpan(0, prefixLength));
                int length = prefix.ReadVarInt32(TensorCodec.GetMaxEncodedLength(chunkRaw));
                ReadExactly(source, frame.AsSpan(prefixLength, length));
                var record = new SpanReader(frame.AsSpan(0, prefixLength + length));
                ReadOnlySpan<byte> chunk = BufferFrame.ReadChunk(ref record, header, c);
                Span<byte> output = raw.AsSpan(0, chunkRaw);
                if (inspector is not null)
                {
                    inspector.Add(chunk, output);
                }
                else
                {
                    TensorCodec.Decode(chunk, output);
                    hash.AppendData(output);
                }

                destination?.Write(output);
                frameLength += prefixLength + length;
            }

            Span<byte> digest = stackalloc byte[BufferFrame.DigestLength];
            ReadExactly(source, digest);
            frameLength += BufferFrame.DigestLength;
            if (source.ReadByte() >= 0)
            {
                ThrowHelper.CorruptFrame("the buffer frame has bytes after its SHA-256");
            }

            if (inspector is not null)
            {
                return inspector.Finish(frameLength, digest);
            }

            Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
            hash.GetHashAndReset(actual);
            if (!actual.SequenceEqual(digest))
            {
                throw new Z4AiIntegrityException(Subject, Convert.ToHexStringLower(digest), Convert.ToHexStringLower(actual));
            }

            return new CodecFrameInfo
            {
                DType = header.DType,
                Shape = header.Shape,
                RawLength = header.RawLength,
                FrameLength = frameLength,
                ChunkSize = header.ChunkSize,
                ChunkCount = header.ChunkCount,
                Sha256 = Convert.ToHexStringLower(digest),
            };
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    // The header is read field by field (magic and fixed bytes, then each varint), so not a byte past it is consumed.
    private static BufferFrameHeader ReadHeader(Stream source, out int length)
    {
        byte[] bytes = new byte[7 + ((BufferFrame.MaxRank + 3) * VarInt.MaxLength)];
        ReadExactly(source, bytes.AsSpan(0, 7));
        if (!BufferFrame.HasMagic(bytes))
        {
            ThrowHelper.Format(Z4AiErrorKind.CorruptFrame, "not a Z4Ai buffer frame (the magic \"Z4AF\" is missing)", offset: 0);
        }

        length = 7;
        length += ReadVarIntBytes(source, bytes.AsSpan(length));
        length += ReadVarIntBytes(source, bytes.AsSpan(length));
        if ((bytes[5] & 1) != 0)
        {
            int rankAt = length;
            length += ReadVarIntBytes(source, bytes.AsSpan(length));
            var rankReader = new SpanReader(bytes.AsSpan(rankAt, length - rankAt));
            int rank = rankReader.ReadVarInt32(BufferFrame.MaxRank);
            for (int i = 0; i < rank; i++)
            {
                length += ReadVarIntBytes(source, bytes.AsSpan(length));
            }
        }

        var reader = new SpanReader(bytes.AsSpan(0, length));
        return BufferFrame.ReadHeader(ref reader);
    }

    // Copies one LEB128 varint (at most 10 bytes) from the stream into `into`; returns its length.
    private static int ReadVarIntBytes(Stream source, Span<byte> into)
    {
        for (int i = 0; i < VarInt.MaxLength; i++)
        {
            int b = source.ReadByte();
            if (b < 0)
            {
                ThrowHelper.CorruptFrame("the buffer frame ends inside a length");
            }

            into[i] = (byte)b;
            if ((b & 0x80) == 0)
            {
                return i + 1;
            }
        }

        return ThrowHelper.CorruptFrame<int>("a length in the buffer frame is longer than 10 bytes");
    }

    private static void ReadExactly(Stream source, Span<byte> into)
    {
        if (source.ReadAtLeast(into, into.Length, throwOnEndOfStream: false) != into.Length)
        {
            ThrowHelper.CorruptFrame("the buffer frame is truncated");
        }
    }

    private static long[]? CheckShape(long length, DType dtype, IReadOnlyList<long>? shape)
    {
        if (shape is null)
        {
            int bits = dtype.BitSize();
            if (length * 8 % bits != 0)
            {
                throw new ArgumentException($"{length} bytes are not a whole number of {dtype.GetName()} elements");
            }

            return null;
        }

        long[] dims = [.. shape];
        if (dims.Length > BufferFrame.MaxRank)
        {
            throw new ArgumentException($"a shape may have at most {BufferFrame.MaxRank} dimensions", nameof(shape));
        }

        ulong bytes;
        try
        {
            bytes = ShapeMath.GetByteLength(dtype, dims, null);
        }
        catch (Z4AiFormatException ex)
        {
            throw new ArgumentException($"the shape [{string.Join(",", dims)}] of {dtype.GetName()}: {ex.Detail}", nameof(shape), ex);
        }

        if (bytes != (ulong)length)
        {
            throw new ArgumentException($"the shape [{string.Join(",", dims)}] of {dtype.GetName()} is {bytes} bytes, the data {length}", nameof(shape));
        }

        return dims;
    }

    private static void CheckElementType<T>(DType dtype)
        where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        if (size != dtype.ElementSize())
        {
            throw new ArgumentException($"{typeof(T).Name} is {size} bytes; a {dtype.GetName()} element is {dtype.ElementSize()}");
        }
    }
}
