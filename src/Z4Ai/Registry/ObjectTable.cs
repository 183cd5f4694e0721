using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>How an object's payload is encoded (docs/registry-format.md, section 4).</summary>
internal enum ObjectKind : byte
{
    /// <summary>Chunked tensor-codec frames of the raw bytes.</summary>
    Scratch = 0,
    /// <summary>One lossless delta frame (Z4AD) against another object.</summary>
    Delta = 1,
    /// <summary>One lossy-tier record against another object (a lossy version's tensor; docs/registry-format.md).</summary>
    Lossy = 2,
}

/// <summary>One chunk of a scratch object: where its frame lies in the object and how to check it.</summary>
/// <param name="Offset">Offset of the frame in the object.</param>
/// <param name="StoredLength">Frame length.</param>
/// <param name="RawLength">Raw bytes the frame decodes to.</param>
/// <param name="Codec">The frame's codec id.</param>
/// <param name="Checksum">XxHash3-64 of the frame.</param>
internal readonly record struct ObjectChunk(long Offset, int StoredLength, int RawLength, byte Codec, ulong Checksum);

/// <summary>
/// The parsed tail of one registry object: what it holds (the raw bytes' length and SHA-256, which is also its id)
/// and how its payload is encoded. Instances come only from <see cref="ObjectFormat.ParseTail"/> (validated) or from
/// the encoder.
/// </summary>
internal sealed class ObjectTable
{
    public ObjectTable(
        ObjectKind kind,
        DType dtype,
        long rawLength,
        Sha256Digest id,
        int depth,
        long payloadLength,
        int chunkSize,
        ObjectChunk[] chunks,
        Sha256Digest reference,
        long referenceLength,
        ulong payloadChecksum)
    {
        Kind = kind;
        DType = dtype;
        RawLength = rawLength;
        Id = id;
        Depth = depth;
        PayloadLength = payloadLength;
        ChunkSize = chunkSize;
        Chunks = chunks;
        Reference = reference;
        ReferenceLength = referenceLength;
        PayloadChecksum = payloadChecksum;
    }

    public ObjectKind Kind { get; }

    /// <summary>The dtype the object was encoded for (its codec choices); readers do not need it.</summary>
    public DType DType { get; }

    public long RawLength { get; }

    /// <summary>The SHA-256 of the raw bytes: the object's id and key.</summary>
    public Sha256Digest Id { get; }

    /// <summary>0 for a scratch object; for a delta, one more than its reference's depth.</summary>
    public int Depth { get; }

    public long PayloadLength { get; }

    /// <summary>Raw bytes per chunk (scratch only).</summary>
    public int ChunkSize { get; }

    /// <summary>The chunks in raw order (scratch only; empty for a delta).</summary>
    public ObjectChunk[] Chunks { get; }

    /// <summary>The id of the object the delta applies to (delta only).</summary>
    public Sha256Digest Reference { get; }

    /// <summary>The raw length of the reference (delta only).</summary>
    public long ReferenceLength { get; }

    /// <summary>XxHash3-64 of the whole payload (delta only; scratch chunks carry their own).</summary>
    public ulong PayloadChecksum { get; }

    /// <summary>The length of the tail plus trailer, set once known.</summary>
    public int TailLength { get; init; }

    /// <summary>Whether the payload applies to a reference object (a delta or a lossy record).</summary>
    public bool HasReference => Kind != ObjectKind.Scratch;

    /// <summary>The whole object's length.</summary>
    public long ObjectLength => PayloadLength + TailLength;
}
