using System.Buffers;
using Z4Ai.Integrity;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// The fixed part of a delta frame, before the chunks:
/// <code>
/// offset  size   field
/// 0       4      magic "Z4AD"
/// 4       1      version (1)
/// 5       1      dtype (the DType value)
/// 6       1-10   varint chunk size (multiple of 8, 64 .. 2^28)
/// .       1-10   varint reference length
/// .       32     reference SHA-256
/// .       1-10   varint target length
/// .       32     target SHA-256
/// </code>
/// Varints are unsigned LEB128; lengths are at most 2^63 - 1.
/// </summary>
internal readonly struct DeltaHeader
{
    /// <summary>The largest header: three 10-byte varints.</summary>
    public const int MaxLength = 4 + 1 + 1 + (3 * VarInt.MaxLength) + (2 * Sha256Digest.Size);

    public DeltaHeader(DType dtype, int chunkSize, long referenceLength, Sha256Digest referenceDigest, long targetLength, Sha256Digest targetDigest, int length = 0)
    {
        DType = dtype;
        ChunkSize = chunkSize;
        ReferenceLength = referenceLength;
        ReferenceDigest = referenceDigest;
        TargetLength = targetLength;
        TargetDigest = targetDigest;
        Length = length;
    }

    public DType DType { get; }

    public int ChunkSize { get; }

    public long ReferenceLength { get; }

    public Sha256Digest ReferenceDigest { get; }

    public long TargetLength { get; }

    public Sha256Digest TargetDigest { get; }

    /// <summary>The header's size in bytes, as read (0 for a header built to be written).</summary>
    public int Length { get; }

    /// <summary>The number of chunks that follow: the target length divided by the chunk size, rounded up.</summary>
    public long ChunkCount => (TargetLength / ChunkSize) + (TargetLength % ChunkSize == 0 ? 0 : 1);

    public void Write(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(MaxLength);
        DeltaConstants.Magic.CopyTo(span);
        span[4] = DeltaConstants.Version;
        span[5] = (byte)DType;
        int n = 6;
        n += VarInt.Write(span[n..], (ulong)ChunkSize);
        n += VarInt.Write(span[n..], (ulong)ReferenceLength);
        ReferenceDigest.Bytes.CopyTo(span[n..]);
        n += Sha256Digest.Size;
        n += VarInt.Write(span[n..], (ulong)TargetLength);
        TargetDigest.Bytes.CopyTo(span[n..]);
        n += Sha256Digest.Size;
        output.Advance(n);
    }

    /// <summary>Reads and validates the header at the start of <paramref name="delta"/>.</summary>
    /// <exception cref="Z4AiFormatException">
    /// <see cref="Z4AiErrorKind.InvalidContainer"/> for a bad magic, truncated header, unknown dtype or invalid chunk
    /// size; <see cref="Z4AiErrorKind.UnsupportedVersion"/> for a version other than 1.
    /// </exception>
    public static DeltaHeader Read(ReadOnlySpan<byte> delta)
    {
        var reader = new SpanReader(delta, Z4AiErrorKind.InvalidContainer);
        if (delta.Length < DeltaConstants.Magic.Length || !delta[..DeltaConstants.Magic.Length].SequenceEqual(DeltaConstants.Magic))
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, "not a Z4Ai delta: the frame does not start with \"Z4AD\"", offset: 0);
        }

        reader.ReadBytes(DeltaConstants.Magic.Length);
        byte version = reader.ReadByte();
        if (version != DeltaConstants.Version)
        {
            ThrowHelper.Format(Z4AiErrorKind.UnsupportedVersion, $"delta format version {version} is not supported (this library reads version {DeltaConstants.Version})", offset: 4);
        }

        byte dtype = reader.ReadByte();
        if (dtype >= DTypeInfo.Count)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"delta declares unknown dtype {dtype}", offset: 5);
        }

        int chunkAt = reader.Position;
        ulong chunkSize = reader.ReadVarUInt64();
        if (chunkSize < DeltaOptions.MinChunkSize || chunkSize > DeltaOptions.MaxChunkSize || chunkSize % 8 != 0)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidContainer,
                $"delta declares chunk size {chunkSize}, expected a multiple of 8 from {DeltaOptions.MinChunkSize} to {DeltaOptions.MaxChunkSize}",
                offset: chunkAt);
        }

        long referenceLength = ReadLength(ref reader, "reference");
        var referenceDigest = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        long targetLength = ReadLength(ref reader, "target");
        var targetDigest = new Sha256Digest(reader.ReadBytes(Sha256Digest.Size));
        return new DeltaHeader((DType)dtype, (int)chunkSize, referenceLength, referenceDigest, targetLength, targetDigest, reader.Position);
    }

    private static long ReadLength(ref SpanReader reader, string what)
    {
        int at = reader.Position;
        ulong value = reader.ReadVarUInt64();
        if (value > long.MaxValue)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"delta declares a {what} length of {value} bytes", offset: at);
        }

        return (long)value;
    }
}
