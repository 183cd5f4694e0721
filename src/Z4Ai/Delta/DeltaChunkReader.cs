using Z4Ai.Codecs;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>One chunk entry of a delta frame, validated against the header.</summary>
internal readonly ref struct DeltaChunk
{
    public DeltaChunk(int index, long offset, int length, int overlap, DeltaChunkMode mode, ReadOnlySpan<byte> frame)
    {
        Index = index;
        Offset = offset;
        Length = length;
        Overlap = overlap;
        Mode = mode;
        Frame = frame;
    }

    public int Index { get; }

    /// <summary>The chunk's offset in the target.</summary>
    public long Offset { get; }

    /// <summary>The number of target bytes the chunk rebuilds.</summary>
    public int Length { get; }

    /// <summary>How many of the chunk's bytes have reference bytes at the same offset.</summary>
    public int Overlap { get; }

    public DeltaChunkMode Mode { get; }

    /// <summary>The chunk's codec frame (the payload for <see cref="DeltaChunkMode.Sparse"/> and <see cref="DeltaChunkMode.SparseBlock"/>); empty for <see cref="DeltaChunkMode.Copy"/>.</summary>
    public ReadOnlySpan<byte> Frame { get; }
}

/// <summary>
/// Walks the chunk entries after the header, validating each before it is handed out. Entry layout:
/// <c>u8 mode</c>, then for every mode but Copy <c>varint frame length</c> and the codec frame.
/// </summary>
/// <remarks>
/// The rules: the mode is defined; Copy lies wholly inside the reference; Xor and Subtract have at least one
/// reference byte to work against, and Subtract only for dtypes with lanes; the frame fits in what remains and its
/// own header declares exactly the chunk length. Sparse and SparseBlock lie wholly inside the reference, covers whole lanes of a
/// dtype with lanes, and declares 1 to (elements) changes. After the last chunk nothing may remain.
/// </remarks>
internal ref struct DeltaChunkReader
{
    private readonly DeltaHeader _header;
    private readonly int _count;
    private readonly bool _canSubtract;
    private readonly int _laneSize;
    private SpanReader _reader;
    private int _index;

    public DeltaChunkReader(ReadOnlySpan<byte> delta, DeltaHeader header)
    {
        _header = header;
        _reader = new SpanReader(delta, Z4AiErrorKind.CorruptFrame);
        _reader.ReadBytes(header.Length);
        // Every entry takes at least its mode byte, which bounds the chunk count by the bytes present before anything
        // sized by the count is allocated.
        long count = header.ChunkCount;
        if (count > _reader.Remaining)
        {
            ThrowHelper.CorruptFrame($"delta declares {count} chunks but only {_reader.Remaining} bytes follow the header", header.Length);
        }

        _count = (int)count;
        _canSubtract = DeltaLanes.TryGetSubtractLanes(header.DType, out _laneSize, out _);
        _index = 0;
    }

    /// <summary>The number of chunk entries.</summary>
    public readonly int Count => _count;

    /// <summary>Reads the next entry, or returns false after the last one (checking that nothing follows it).</summary>
    public bool TryReadNext(out DeltaChunk chunk)
    {
        if (_index == _count)
        {
            if (_reader.Remaining != 0)
            {
                ThrowHelper.CorruptFrame($"{_reader.Remaining} unexpected bytes after the last chunk", _reader.Position);
            }

            chunk = default;
            return false;
        }

        long offset = (long)_index * _header.ChunkSize;
        int length = (int)Math.Min(_header.ChunkSize, _header.TargetLength - offset);
        int overlap = (int)Math.Clamp(_header.ReferenceLength - offset, 0, length);
        int at = _reader.Position;
        byte mode = _reader.ReadByte();
        ReadOnlySpan<byte> frame = default;
        switch ((DeltaChunkMode)mode)
        {
            case DeltaChunkMode.Copy:
                if (overlap != length)
                {
                    ThrowHelper.CorruptFrame($"chunk {_index} copies {length} bytes at {offset} but the reference has only {overlap} there", at);
                }

                break;
            case DeltaChunkMode.Xor or DeltaChunkMode.Subtract when overlap == 0:
                ThrowHelper.CorruptFrame($"chunk {_index} is a {(DeltaChunkMode)mode} delta but lies beyond the reference's {_header.ReferenceLength} bytes", at);
                break;
            case DeltaChunkMode.Subtract when !_canSubtract:
                ThrowHelper.CorruptFrame($"chunk {_index} is a subtract delta, which {_header.DType.GetName()} does not support", at);
                break;
            case DeltaChunkMode.Xor or DeltaChunkMode.Subtract or DeltaChunkMode.Scratch:
                frame = ReadFrame(length);
                break;
            case DeltaChunkMode.Sparse or DeltaChunkMode.SparseBlock:
                if (overlap != length || !_canSubtract || !SparseDelta.Supports(_laneSize, length))
                {
                    ThrowHelper.CorruptFrame(
                        $"chunk {_index} is a {((DeltaChunkMode)mode == DeltaChunkMode.Sparse ? "sparse" : "sparse-block")} delta, which needs the whole chunk inside the reference and whole {_header.DType.GetName()} lanes "
                        + $"({length} bytes at {offset}, reference {_header.ReferenceLength} bytes)",
                        at);
                }

                frame = ReadSparse(length / _laneSize);
                break;
            default:
                ThrowHelper.CorruptFrame($"chunk {_index} has unknown mode {mode}", at);
                break;
        }

        chunk = new DeltaChunk(_index, offset, length, overlap, (DeltaChunkMode)mode, frame);
        _index++;
        return true;
    }

    private ReadOnlySpan<byte> ReadSparse(int elements)
    {
        int at = _reader.Position;
        int payloadLength = _reader.ReadVarInt32(_reader.Remaining);
        ReadOnlySpan<byte> payload = _reader.ReadBytes(payloadLength);
        SparseDelta.ReadCount(payload, elements, _index, at);
        return payload;
    }

    private ReadOnlySpan<byte> ReadFrame(int length)
    {
        int at = _reader.Position;
        int frameLength = _reader.ReadVarInt32(_reader.Remaining);
        ReadOnlySpan<byte> frame = _reader.ReadBytes(frameLength);
        (_, int rawLength, _) = TensorCodec.ReadHeader(frame);
        if (rawLength != length)
        {
            ThrowHelper.CorruptFrame($"chunk {_index} holds a frame of {rawLength} bytes, expected {length}", at);
        }

        return frame;
    }
}
