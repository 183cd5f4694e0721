using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Archival;
using Z4Ai.Format;
using Z4Ai.Internal;

namespace Z4Ai;

/// <content>The stream and file forms: block by block, so memory is bounded by the block size, not the file.</content>
public static partial class ArchiveCodec
{
    /// <summary>
    /// Compresses <paramref name="source"/> from its current position to its end into <paramref name="destination"/>,
    /// one block at a time: memory is bounded by the block size and one model.
    /// </summary>
    /// <param name="source">The data to archive.</param>
    /// <param name="destination">Where the archive is written.</param>
    /// <param name="options">The preset, primer, block size and zstd level; null for the defaults.</param>
    public static void Compress(Stream source, Stream destination, ArchiveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= ArchiveOptions.Default;

        byte[] block = GC.AllocateUninitializedArray<byte>(options.BlockSize);
        int filled = ReadFull(source, block);

        // A first block that does not fill up is the whole input: it is coded exactly as the in-memory form does,
        // so the bytes are identical. Otherwise blocks have the configured size and the header names the model
        // before any block is coded.
        if (filled < block.Length)
        {
            byte[] archive = Compress(block.AsSpan(0, filled), options);
            destination.Write(archive);
            return;
        }

        ArchiveHeader header = ArchiveWriter.Plan(block.AsSpan(0, filled), long.MaxValue, options);
        using var writer = new ArchiveWriter(header, options.ZstdLevel);
        using var output = new ArrayPoolBufferWriter<byte>();
        writer.WriteHeader(output);
        while (filled > 0)
        {
            writer.WriteBlock(block.AsSpan(0, filled), output);
            destination.Write(output.WrittenSpan);
            output.Clear();
            filled = filled == block.Length ? ReadFull(source, block) : 0;
        }

        writer.WriteTrailer(output);
        destination.Write(output.WrittenSpan);
    }

    /// <summary>
    /// Decompresses an archive from <paramref name="source"/> into <paramref name="destination"/>, one block at a
    /// time. The SHA-256 can only be checked at the end, so on an exception the bytes already written must be
    /// discarded (<see cref="DecompressFile"/> does this for you).
    /// </summary>
    /// <exception cref="Z4AiFormatException">The archive is malformed or names a model or primer this library lacks.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public static void Decompress(Stream source, Stream destination, ArchiveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        long limit = (options ?? ArchiveOptions.Default).MaxDecompressedLength;

        var input = new BlockStreamReader(source);
        ArchiveHeader header = input.ReadHeader();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[]? raw = null;
        byte[]? payload = null;
        long total = 0;
        while (true)
        {
            long at = input.Position;
            byte method = input.ReadByte("a block header");
            if (method == ArchiveConstants.EndOfBlocks)
            {
                break;
            }

            int rawLength = input.ReadVarInt32("a block header");
            int payloadLength = input.ReadVarInt32("a block header");
            ArchiveBlocks.Validate((ArchiveBlockMethod)method, rawLength, payloadLength, header.BlockSize, at);
            if (total + rawLength > limit)
            {
                ThrowHelper.Format(Z4AiErrorKind.LimitExceeded, $"the archive holds more than {limit} bytes, the configured limit", offset: at);
            }

            raw ??= GC.AllocateUninitializedArray<byte>(header.BlockSize);
            payload ??= GC.AllocateUninitializedArray<byte>(header.BlockSize);
            input.ReadExactly(payload.AsSpan(0, payloadLength), "a block payload");
            ArchiveBlocks.Decode((ArchiveBlockMethod)method, payload.AsSpan(0, payloadLength), header, raw.AsSpan(0, rawLength));
            hash.AppendData(raw, 0, rawLength);
            destination.Write(raw, 0, rawLength);
            total += rawLength;
        }

        long trailerAt = input.Position;
        ulong declared = input.ReadVarUInt64("the trailer");
        Span<byte> expected = stackalloc byte[ArchiveConstants.DigestLength];
        input.ReadExactly(expected, "the trailer");
        if (declared != (ulong)total)
        {
            ThrowHelper.CorruptFrame($"the archive's blocks hold {total} bytes but its trailer declares {declared}", trailerAt);
        }

        Span<byte> actual = stackalloc byte[ArchiveConstants.DigestLength];
        hash.GetHashAndReset(actual);
        if (!actual.SequenceEqual(expected))
        {
            throw new Z4AiIntegrityException("archive", Convert.ToHexStringLower(expected), Convert.ToHexStringLower(actual));
        }
    }

    /// <summary>
    /// Compresses the file <paramref name="sourcePath"/> into <paramref name="destinationPath"/>; the archive appears
    /// under its name only once complete.
    /// </summary>
    public static void CompressFile(string sourcePath, string destinationPath, ArchiveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        using FileStream source = File.OpenRead(sourcePath);
        using AtomicFile target = AtomicFile.Create(destinationPath);
        Compress(source, target.Stream, options);
        target.Commit();
    }

    /// <summary>
    /// Decompresses the archive <paramref name="sourcePath"/> into <paramref name="destinationPath"/>. The output appears
    /// under its name only after its SHA-256 has been checked; on any error no output file is left.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The archive is malformed or names a model or primer this library lacks.</exception>
    /// <exception cref="Z4AiIntegrityException">The decoded bytes do not match the recorded SHA-256.</exception>
    public static void DecompressFile(string sourcePath, string destinationPath, ArchiveOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        using FileStream source = File.OpenRead(sourcePath);
        using AtomicFile target = AtomicFile.Create(destinationPath);
        try
        {
            Decompress(source, target.Stream, options);
        }
        catch (Z4AiFormatException ex)
        {
            throw ex.WithFile(sourcePath);
        }

        target.Commit();
    }

    private static int ReadFull(Stream stream, byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return filled;
    }

    /// <summary>A small read-ahead over the archive stream, so headers can be parsed from spans.</summary>
    private sealed class BlockStreamReader
    {
        private readonly Stream _stream;
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _start;
        private int _end;
        private long _consumed;

        public BlockStreamReader(Stream stream) => _stream = stream;

        public long Position => _consumed;

        public ArchiveHeader ReadHeader()
        {
            Fill(ArchiveHeader.MaxLength);
            var reader = new SpanReader(_buffer.AsSpan(_start, _end - _start));
            ArchiveHeader header = ArchiveHeader.Read(ref reader);
            Skip(reader.Position);
            return header;
        }

        public byte ReadByte(string what)
        {
            if (_start == _end && Fill(1) == 0)
            {
                Truncated(what);
            }

            _consumed++;
            return _buffer[_start++];
        }

        public ulong ReadVarUInt64(string what)
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = ReadByte(what);
                if (shift == 63 && b > 1)
                {
                    break;
                }

                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            return ThrowHelper.Format<ulong>(Z4AiErrorKind.CorruptFrame, "variable-length integer is longer than 64 bits", offset: _consumed);
        }

        public int ReadVarInt32(string what)
        {
            long at = _consumed;
            ulong v = ReadVarUInt64(what);
            if (v > int.MaxValue)
            {
                ThrowHelper.Format(Z4AiErrorKind.CorruptFrame, $"length {v} exceeds the allowed {int.MaxValue}", offset: at);
            }

            return (int)v;
        }

        public void ReadExactly(Span<byte> destination, string what)
        {
            int fromBuffer = Math.Min(destination.Length, _end - _start);
            _buffer.AsSpan(_start, fromBuffer).CopyTo(destination);
            Skip(fromBuffer);
            int done = fromBuffer;
            while (done < destination.Length)
            {
                int n = _stream.Read(destination[done..]);
                if (n == 0)
                {
                    Truncated(what);
                }

                done += n;
                _consumed += n;
            }
        }

        private void Skip(int count)
        {
            _start += count;
            _consumed += count;
        }

        // Reads until at least `want` bytes are buffered or the stream ends; returns the bytes buffered.
        private int Fill(int want)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            while (_end < want)
            {
                int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
                if (n == 0)
                {
                    break;
                }

                _end += n;
            }

            return _end;
        }
    }
}
