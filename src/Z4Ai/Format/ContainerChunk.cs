namespace Z4Ai.Format;

/// <summary>One compressed chunk of a tensor: where its frame lies in the file and how to check it.</summary>
/// <param name="Offset">Absolute file offset of the frame.</param>
/// <param name="StoredLength">Length of the frame in bytes.</param>
/// <param name="RawLength">Number of tensor bytes the frame decodes to.</param>
/// <param name="Codec">The frame's codec id (its first byte), recorded so tools can report it without reading data.</param>
/// <param name="Checksum">XxHash3 64-bit of the frame bytes, checked before the frame is decoded.</param>
internal sealed record ContainerChunk(long Offset, int StoredLength, int RawLength, byte Codec, ulong Checksum);
