using Z4Ai.Delta;
using Z4Ai.Format;

namespace Z4Ai;

/// <summary>
/// Lossless deltas between two versions of a buffer (a tensor in consecutive checkpoints) or of a whole model file
/// (<see cref="CompressFile"/>, <see cref="DecompressFile"/>, <see cref="DecompressChain(IReadOnlyList{string}, string, string, IProgress{ProgressInfo}?, CancellationToken)"/>, <see cref="InspectFile"/>):
/// the delta costs only what changed, rebuilds the new version byte for byte, and refuses to apply to any reference
/// but its own.
/// </summary>
/// <remarks>
/// <para>
/// The current buffer is cut into chunks of <see cref="DeltaOptions.ChunkSize"/> bytes. Each chunk is compared
/// with the reference's bytes at the same offset and stored in one of six ways
/// (<see cref="DeltaChunkMode"/>): Copy (identical, nothing stored), Xor (bit patterns XORed), Subtract
/// (element-wise difference, zigzagged; floats are first mapped to order-preserving integers so a small step in
/// value is a small number), Scratch (the chunk alone), Sparse (only the changed elements: their positions as
/// gaps and their Subtract values, range-coded with adaptive models), or SparseBlock (the same changes coded with
/// static-table rANS and raw bits, which decodes several times faster). The smallest is kept, except that Sparse is
/// kept at <see cref="CompressionEffort.Default"/> only when it is more than 2% smaller than every other candidate
/// and never at <see cref="CompressionEffort.Fast"/>. Scratch is always tried, so a delta is never
/// larger than compressing the buffer on its own plus a few bytes per chunk and a header.
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
///   mode                 u8: 0 Copy, 1 Xor, 2 Subtract, 3 Scratch, 4 Sparse, 5 SparseBlock
///   frame length         varint (absent for Copy)
///   frame                a tensor-codec frame (u8 codec id, varint raw length, payload) of the transformed chunk,
///                        or for Sparse the change count and range-coded changes (docs/delta-format.md, 1.5),
///                        or for SparseBlock the change count, rANS-coded tokens and raw bits (1.6)
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
    /// <summary>The conventional extension of a model-delta file, with the dot.</summary>
    public const string FileExtension = ".z4delta";

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

    /// <summary>
    /// Rebuilds the buffer a delta was made from, using the reference it was made against. Chunks decode on every core
    /// while the result and the reference are hashed; the bytes are the same as on one thread.
    /// </summary>
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

        DeltaHeader header = BufferDelta.ReadStructure(delta);
        int length = (int)header.TargetLength;
        BufferDelta.DecodeInto(delta, header, reference, destination[..length], knownReferenceDigest: null, Environment.ProcessorCount);
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

    /// <summary>Whether <paramref name="path"/> starts with the model-delta magic ("Z4AM").</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static bool IsModelDelta(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        Span<byte> head = stackalloc byte[ModelDeltaFormat.HeaderLength];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return ModelDeltaFormat.HasMagic(head[..n]);
    }

    /// <summary>
    /// Writes a model delta: the model in <paramref name="target"/> stored against the model in <paramref name="base"/>,
    /// so that <see cref="DecompressFile"/> rebuilds the target file byte for byte from the delta and the base.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Either input may be a <c>.safetensors</c> file or a <c>.z4ai</c> container. Target tensors are paired with base
    /// tensors by name and shape, then (for fine-tunes that rename or re-order tensors) by dtype and shape in order of
    /// position, then by name alone for a resized tensor; a tensor identical to any base tensor is stored as a copy of
    /// it, a paired one as buffer deltas (per chunk the smallest of copy, XOR, subtract, sparse and from scratch), and the rest
    /// on their own. Base tensors the target does not use are ignored. The delta records every used base tensor's
    /// SHA-256 and the identity of the whole base model, and keeps the target's safetensors header.
    /// </para>
    /// <para>
    /// Tensors are processed in the target's file order, a segment (8 MiB by default) at a time on up to
    /// <see cref="Environment.ProcessorCount"/> workers, so memory stays at a few segments whatever the model size.
    /// A plain safetensors input is read once more to hash its tensors. The output is written under a temporary name
    /// and renamed into place, so a failed or cancelled run leaves no file.
    /// </para>
    /// </remarks>
    /// <param name="target">The newer model.</param>
    /// <param name="base">The model it is stored against.</param>
    /// <param name="output">The delta file to write (conventionally <see cref="FileExtension"/>); replaced if it exists.</param>
    /// <param name="options">Chunk size and effort; <see cref="DeltaOptions.Default"/> when null.</param>
    /// <param name="progress">Receives per-tensor progress (stages <c>hash base</c>, <c>hash target</c>, <c>delta</c>), or null.</param>
    /// <param name="cancellationToken">Cancels the run; no output is left.</param>
    /// <returns>How every tensor was stored and the sizes involved.</returns>
    /// <exception cref="Z4AiFormatException">An input is not a valid safetensors file or container.</exception>
    /// <exception cref="Z4AiIntegrityException">A container input holds a tensor that fails its SHA-256, or an input changed while it was read.</exception>
    public static ModelDeltaReport CompressFile(
        string target,
        string @base,
        string output,
        DeltaOptions? options = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentException.ThrowIfNullOrEmpty(@base);
        ArgumentException.ThrowIfNullOrEmpty(output);
        options ??= DeltaOptions.Default;
        return CompressFileCore(
            target,
            @base,
            output,
            new ModelDeltaWriterOptions
            {
                Effort = options.Effort,
                ChunkSize = options.ChunkSize,

                // A chunk size that shares no small multiple with the default frame size uses its own for frames.
                FrameSize = ModelDeltaFormat.SegmentSizeFor(options.ChunkSize, ModelDeltaFormat.DefaultFrameSize) == 0
                    ? options.ChunkSize
                    : ModelDeltaFormat.DefaultFrameSize,
            },
            progress,
            cancellationToken);
    }

    /// <summary>
    /// Rebuilds the target file of a model delta from the delta and its base, byte for byte (header included), and
    /// writes it to <paramref name="output"/>.
    /// </summary>
    /// <remarks>
    /// Before anything is written the base is checked: every base tensor the delta uses must have the recorded name,
    /// dtype, shape and SHA-256, and the whole base model its recorded identity (a plain safetensors base is hashed
    /// for this). Every rebuilt tensor is verified against its SHA-256. The output is written under a temporary name
    /// and renamed into place only when everything verified.
    /// </remarks>
    /// <param name="delta">A file written by <see cref="CompressFile"/>.</param>
    /// <param name="base">The model it was made against, as a <c>.safetensors</c> file or a <c>.z4ai</c> container.</param>
    /// <param name="output">The <c>.safetensors</c> file to write; replaced if it exists.</param>
    /// <param name="progress">Receives per-tensor progress (stages <c>hash base</c>, <c>undelta</c>), or null.</param>
    /// <param name="cancellationToken">Cancels the run; no output is left.</param>
    /// <exception cref="Z4AiFormatException">A file is malformed, or (kind <see cref="Z4AiErrorKind.ReferenceMismatch"/>)
    /// the base is not the model the delta was made against: the message names the first differing tensor and both
    /// digests.</exception>
    /// <exception cref="Z4AiIntegrityException">A rebuilt tensor fails its SHA-256.</exception>
    public static void DecompressFile(
        string delta,
        string @base,
        string output,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(delta);
        DecompressChain([delta], @base, output, progress, cancellationToken);
    }

    /// <summary>
    /// Rebuilds the last checkpoint of a chain: <paramref name="deltas"/>[0] was made against
    /// <paramref name="rootBase"/>, each later delta against the model the one before it rebuilds.
    /// </summary>
    /// <remarks>
    /// Every link is checked before anything is written: the root base as in <see cref="DecompressFile"/>, and each
    /// later link's recorded base (model identity and used tensors) against what the link before it rebuilds, read
    /// from the deltas' indexes. Then the chain is walked tensor by tensor: each link rebuilds only the base bytes
    /// the link above asks for, a segment at a time, verifying every whole tensor it rebuilds; no intermediate model
    /// is ever held in memory or written out.
    /// </remarks>
    /// <param name="deltas">The chain's delta files, oldest first; at least one.</param>
    /// <param name="rootBase">The model the first delta was made against.</param>
    /// <param name="output">The <c>.safetensors</c> file to write; replaced if it exists.</param>
    /// <param name="progress">Receives per-tensor progress, or null.</param>
    /// <param name="cancellationToken">Cancels the run; no output is left.</param>
    /// <exception cref="ArgumentException"><paramref name="deltas"/> is empty or holds an empty path.</exception>
    /// <exception cref="Z4AiFormatException">A file is malformed, or (kind <see cref="Z4AiErrorKind.ReferenceMismatch"/>)
    /// the root base or a link is not what the next link was made against: the message names the link, the first
    /// differing tensor and the digests.</exception>
    /// <exception cref="Z4AiIntegrityException">A rebuilt tensor fails its SHA-256.</exception>
    public static void DecompressChain(
        IReadOnlyList<string> deltas,
        string rootBase,
        string output,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default) =>
        DecompressChain(deltas, rootBase, output, ReadLimits.Default, progress, cancellationToken);

    /// <summary>
    /// Rebuilds the last checkpoint of a chain, as <see cref="DecompressChain(IReadOnlyList{string}, string, string, IProgress{ProgressInfo}?, CancellationToken)"/>,
    /// refusing a chain longer than <see cref="ReadLimits.MaxDeltaChainDepth"/> before any file is read. A cycle (a delta
    /// listed again after the model it rebuilds) fails the per-link base check as a broken chain.
    /// </summary>
    /// <exception cref="Z4AiFormatException">As for the overload without limits; also (<see cref="Z4AiErrorKind.LimitExceeded"/>)
    /// a chain that is too deep.</exception>
    public static void DecompressChain(
        IReadOnlyList<string> deltas,
        string rootBase,
        string output,
        ReadLimits limits,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        ArgumentNullException.ThrowIfNull(limits);
        if (deltas.Count == 0)
        {
            throw new ArgumentException("a chain needs at least one delta", nameof(deltas));
        }

        foreach (string path in deltas)
        {
            ArgumentException.ThrowIfNullOrEmpty(path, nameof(deltas));
        }

        if (deltas.Count > limits.MaxDeltaChainDepth)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the chain has {deltas.Count} deltas, more than the read limit of {limits.MaxDeltaChainDepth}", deltas[0]);
        }

        ArgumentException.ThrowIfNullOrEmpty(rootBase);
        ArgumentException.ThrowIfNullOrEmpty(output);
        using AtomicFile file = AtomicFile.Create(output);
        ModelDeltaRestore.Restore(deltas, rootBase, file.Stream, Environment.ProcessorCount, progress, cancellationToken);
        file.Commit();
    }

    /// <summary>
    /// Describes a model-delta file without its base: the base model's identity and tensor count, the target's, and
    /// per tensor its mode, sizes, base tensor and digest, and each chunk's transform.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The file is not a valid model delta.</exception>
    public static ModelDeltaInfo InspectFile(string delta)
    {
        ArgumentException.ThrowIfNullOrEmpty(delta);
        using ModelDeltaReader reader = ModelDeltaReader.Open(delta);
        return reader.Inspect();
    }

    /// <summary>The file-level writer with every setting exposed (tests use small segments).</summary>
    internal static ModelDeltaReport CompressFileCore(
        string target,
        string @base,
        string output,
        ModelDeltaWriterOptions options,
        IProgress<ProgressInfo>? progress,
        CancellationToken cancellationToken)
    {
        using AtomicFile file = AtomicFile.Create(output);
        ModelDeltaReport report = ModelDeltaWriter.Write(target, @base, file.Stream, options, progress, cancellationToken);
        file.Commit();
        return report;
    }
}
