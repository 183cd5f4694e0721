using System.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// The model coder without the archive frame, for the codec pipeline: a byte stream (such as the exponent or
/// sign bytes of a float tensor) coded with the context-mixing or the order-2 model, no primer, no digest (the
/// container already verifies each tensor). Layout: <c>u8 model id, u8 model version, u8 settings length,
/// settings, arithmetic-coded payload</c>; the raw length is the caller's (it is in the codec frame).
/// </summary>
internal static class SymbolCoder
{
    /// <summary>The longest prefix before the payload.</summary>
    public const int MaxPrefixLength = 3 + ModelDescriptor.MaxSettingsLength;

    /// <summary>
    /// Codes <paramref name="symbols"/> and appends the result to <paramref name="output"/> only when it is
    /// shorter than <paramref name="maxLength"/> bytes (including the prefix); otherwise writes nothing.
    /// </summary>
    /// <param name="symbols">The bytes to code.</param>
    /// <param name="preset">The context set: <see cref="ArchivePreset.Binary"/> suits tensor streams.</param>
    /// <param name="output">Where the coded bytes go.</param>
    /// <param name="maxLength">The size to beat; the model gives up as soon as it cannot.</param>
    /// <param name="useOrder2">Code with the small order-2 model instead of context mixing (faster, weaker).</param>
    /// <returns>True when the coded form was written.</returns>
    public static bool TryEncode(ReadOnlySpan<byte> symbols, ArchivePreset preset, IBufferWriter<byte> output, int maxLength, bool useOrder2 = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (preset == ArchivePreset.Auto)
        {
            preset = ContentSniffer.Detect(symbols);
        }

        ModelDescriptor descriptor = useOrder2
            ? SymbolModels.Order2
            : SymbolModels.ContextMix(ContextMixSettings.ForLength(preset, symbols.Length), ContextMixModel.ModelVersion);
        int prefix = 3 + descriptor.Settings.Length;
        if (maxLength <= prefix + 1)
        {
            return false;
        }

        ISymbolModel model = SymbolModels.Create(descriptor, symbols.Length);
        if (!ModelCoder.TryEncode(model, symbols, maxLength - prefix, out byte[] payload, out int length))
        {
            return false;
        }

        Span<byte> span = output.GetSpan(prefix);
        span[0] = descriptor.Id;
        span[1] = descriptor.Version;
        span[2] = (byte)descriptor.Settings.Length;
        descriptor.Settings.CopyTo(span[3..]);
        output.Advance(prefix);
        output.Write(payload.AsSpan(0, length));
        return true;
    }

    /// <summary>Decodes exactly <paramref name="destination"/>.Length bytes coded by <see cref="TryEncode"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> encoded, Span<byte> destination)
    {
        var reader = new SpanReader(encoded);
        byte id = reader.ReadByte();
        byte version = reader.ReadByte();
        int settingsLength = reader.ReadByte();
        if (settingsLength > ModelDescriptor.MaxSettingsLength)
        {
            ThrowHelper.CorruptFrame($"model settings are {settingsLength} bytes, at most {ModelDescriptor.MaxSettingsLength} are allowed", 2);
        }

        var descriptor = new ModelDescriptor(id, version, reader.ReadBytes(settingsLength).ToArray());
        SymbolModels.Validate(descriptor);
        if (id == ContextMixModel.ModelId)
        {
            ContextMixSettings.Read(descriptor.Settings).CheckPlausible(destination.Length);
        }

        ISymbolModel model = SymbolModels.Create(descriptor, destination.Length);
        ModelCoder.Decode(model, reader.Rest, destination);
    }
}
