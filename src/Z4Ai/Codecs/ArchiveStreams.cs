using System.Buffers;
using Z4Ai.Archival;

namespace Z4Ai.Codecs;

/// <summary>
/// The archival tier inside the tensor codec: at <see cref="CompressionEffort.Archive"/> every symbol stream (the
/// exponent and sign+mantissa streams of float tensors, byte planes, palette indices) is also coded with the
/// archival context-mixing model, and the leaf is kept only where it is smaller than every other coder's.
/// </summary>
/// <remarks>
/// Leaf layout (<see cref="RecipeKind.ArchiveModel"/>): <c>u8 kind (13), u8 model id, u8 model version, u8 settings
/// length, settings, arithmetic-coded payload</c> (see docs/archive-format.md, "Codec leaf"). The stream length is
/// the parent's, as for every leaf. The model uses the binary context set and no primer; the model id and version
/// are checked on decode, so a frame written by a later model is refused with a precise error, never misdecoded.
/// </remarks>
internal static class ArchiveStreams
{
    /// <summary>Streams shorter than this are not tried: the model's fixed table setup would dominate.</summary>
    public const int MinLength = 1024;

    /// <summary>The shortest U8/I8 tensor tried: quantised weights of a few hundred bytes still gain a few percent.</summary>
    public const int MinByteTensorLength = 256;

    /// <summary>
    /// Appends an archive-model leaf for <paramref name="data"/> when it is shorter than
    /// <paramref name="sizeToBeat"/> bytes; otherwise writes nothing.
    /// </summary>
    /// <returns>The bytes written, or 0 when the model did not win.</returns>
    public static int TryEncode(ReadOnlySpan<byte> data, long sizeToBeat, IBufferWriter<byte> output, int minLength = MinLength)
    {
        if (data.Length < minLength || sizeToBeat <= 2)
        {
            return 0;
        }

        using var leaf = new CommunityToolkit.HighPerformance.Buffers.ArrayPoolBufferWriter<byte>((int)Math.Min(sizeToBeat + 64, data.Length + 64));
        leaf.GetSpan(1)[0] = (byte)RecipeKind.ArchiveModel;
        leaf.Advance(1);
        int limit = (int)Math.Min(sizeToBeat - 1, int.MaxValue);
        if (!SymbolCoder.TryEncode(data, ArchivePreset.Binary, leaf, limit))
        {
            return 0;
        }

        output.Write(leaf.WrittenSpan);
        return leaf.WrittenCount;
    }

    /// <summary>Decodes an archive-model leaf's payload (after the kind byte) into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="Z4AiFormatException">The leaf names an unknown model or version, or is damaged.</exception>
    public static void Decode(ReadOnlySpan<byte> payload, Span<byte> destination) => SymbolCoder.Decode(payload, destination);
}
