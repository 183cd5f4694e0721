using Z4Ai.Delta;

namespace Z4Ai;

/// <summary>
/// Lossless deltas between two versions of a buffer (a tensor in consecutive checkpoints): the delta costs only
/// what changed, rebuilds the new version byte for byte, and refuses to apply to any reference but its own.
/// </summary>
/// <remarks>
/// <para>
/// The current buffer is cut into chunks of <see cref="DeltaOptions.ChunkSize"/> bytes. Each chunk is compared
/// with the reference's bytes at the same offset and stored in the smallest of four ways
/// (<see cref="DeltaChunkMode"/>): Copy (identical, nothing stored), Xor (bit patterns XORed), Subtract
/// (element-wise difference, zigzagged; floats are first mapped to order-preserving integers so a small step in
/// value is a small number), or Scratch (the chunk alone). Every stored form goes through the tensor codec, so a
/// delta is never larger than compressing the buffer on its own plus a few bytes per chunk and a header.
/// The buffers may differ in length: chunks past the reference's end are stored from scratch.
/// </para>
/// <para>
/// Delta frame layout (all integers little-endian, varints unsigned LEB128):
/// <code>
/// "Z4AD"                 4 bytes magic
/// version                u8, 1
/// dtype                  u8, the DType value
/// chunk size             varint, a multiple of 8 from 64 to 2^28
/// reference length       varint
/// reference SHA-256      32 bytes
/// target length          varint
/// target SHA-256         32 bytes
/// ceil(target length / chunk size) chunk entries, in target order:
///   mode                 u8: 0 Copy, 1 Xor, 2 Subtract, 3 Scratch
///   frame length         varint (absent for Copy)
///   frame                a tensor-codec frame (u8 codec id, varint raw length, payload) of the transformed chunk
/// </code>
/// Chunk i covers target bytes [i * chunk size, min((i + 1) * chunk size, target length)). Xor and Subtract
/// transform the chunk's first <c>overlap = min(length, max(0, reference length - offset))</c> bytes against the
/// reference's bytes at the same offsets and keep the rest unchanged; within the overlap, Subtract works on
/// little-endian lanes of the dtype's width (C64 as two F32 lanes), computing
/// <c>zigzag(map(current) - map(reference))</c> modulo 2^bits, where <c>map</c> is the identity for integer dtypes and,
/// for floats, flips every bit of a negative value and only the sign bit of a non-negative one; bytes that do
/// not fill a whole lane are XORed. Subtract is defined for the 8-, 16-, 32- and 64-bit integer and float dtypes;
/// BOOL and the sub-byte floats use Copy, Xor and Scratch only.
/// </para>
/// <para>
/// Applying a delta checks the reference's length and SHA-256 first (a mismatch is a
/// <see cref="Z4AiFormatException"/> of kind <see cref="Z4AiErrorKind.ReferenceMismatch"/> naming both digests),
/// validates every chunk entry before allocating the result, and verifies the rebuilt bytes against the recorded
/// SHA-256 (<see cref="Z4AiIntegrityException"/>), so a wrong reference or a damaged delta never produces wrong bytes.
/// </para>
/// </remarks>
public static class DeltaCodec
{
    /// <summary>Encodes <paramref name="current"/> as a delta against <paramref name="reference"/>.</summary>
    /// <param name="current">The new version of the buffer.</param>
    /// <param name="reference">The version the delta will be applied to; it may be shorter or longer.</param>
    /// <param name="dtype">The element type of both buffers, which selects the element-wise transforms.</param>
    /// <param name="options">Chunk size and effort; <see cref="DeltaOptions.Default"/> when null.</param>
    /// <returns>A self-describing delta frame.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined dtype.</exception>
    public static byte[] Compress(ReadOnlySpan<byte> current, ReadOnlySpan<byte> reference, DType dtype, DeltaOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)dtype, (uint)DTypeInfo.Count, nameof(dtype));
        options ??= DeltaOptions.Default;
        return BufferDelta.Encode(current, reference, dtype, options.Effort, options.ChunkSize);
    }

    /// <summary>Rebuilds the buffer a delta was made from, using the reference it was made against.</summary>
    /// <param name="delta">A frame from <see cref="Compress"/>.</param>
    /// <param name="reference">The same reference that was given to <see cref="Compress"/>.</param>
    /// <returns>The rebuilt buffer, verified against its SHA-256.</returns>
    /// <exception cref="Z4AiFormatException">
    /// The delta is malformed, or (kind <see cref="Z4AiErrorKind.ReferenceMismatch"/>) the reference is not the one
    /// the delta was made against.
    /// </exception>
    /// <exception cref="Z4AiIntegrityException">The rebuilt bytes do not match the recorded SHA-256.</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference) => BufferDelta.Decode(delta, reference);

    /// <summary>
    /// Rebuilds the buffer into <paramref name="destination"/>, or returns false without writing when it is too short
    /// (see <see cref="GetDecompressedLength"/>).
    /// </summary>
    /// <param name="delta">A frame from <see cref="Compress"/>.</param>
    /// <param name="reference">The same reference that was given to <see cref="Compress"/>.</param>
    /// <param name="destination">Receives the rebuilt bytes at its start; it is cleared if verification fails.</param>
    /// <param name="bytesWritten">The length of the rebuilt buffer, or 0 when false is returned.</param>
    /// <returns>True when the buffer was rebuilt and verified.</returns>
    /// <exception cref="Z4AiFormatException">The delta is malformed or the reference is the wrong one.</exception>
    /// <exception cref="Z4AiIntegrityException">The rebuilt bytes do not match the recorded SHA-256.</exception>
    public static bool TryDecompress(ReadOnlySpan<byte> delta, ReadOnlySpan<byte> reference, Span<byte> destination, out int bytesWritten)
    {
        // The length check needs only the header, so a short destination is reported before the reference is hashed.
        if (DeltaHeader.Read(delta).TargetLength > destination.Length)
        {
            bytesWritten = 0;
            return false;
        }

        DeltaHeader header = BufferDelta.Validate(delta, reference);
        int length = (int)header.TargetLength;
        BufferDelta.DecodeValidated(delta, header, reference, destination[..length]);
        bytesWritten = length;
        return true;
    }

    /// <summary>Reads the length of the buffer a delta rebuilds, from its header alone.</summary>
    /// <exception cref="Z4AiFormatException">The delta header is malformed.</exception>
    public static long GetDecompressedLength(ReadOnlySpan<byte> delta) => DeltaHeader.Read(delta).TargetLength;

    /// <summary>
    /// Describes a delta without its reference: the reference's and target's lengths and SHA-256, the dtype, and
    /// every chunk's mode and stored size. The structure is validated; no frame is decoded.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The delta is malformed.</exception>
    public static DeltaInfo Inspect(ReadOnlySpan<byte> delta) => BufferDelta.Inspect(delta);
}
