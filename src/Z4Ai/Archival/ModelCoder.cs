using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>Runs a symbol model through the arithmetic coder: bytes to a payload and back.</summary>
internal static class ModelCoder
{
    /// <summary>
    /// Codes <paramref name="data"/> with <paramref name="model"/>. Returns false, having stopped early, as soon as
    /// the payload reaches <paramref name="giveUpAt"/> bytes (it can no longer win).
    /// </summary>
    public static bool TryEncode(ISymbolModel model, ReadOnlySpan<byte> data, int giveUpAt, out byte[] payload, out int length) =>
        model is ContextMixModel contextMix
            ? TryEncode(new ContextMixBits(contextMix), data, giveUpAt, out payload, out length)
            : TryEncode(new AnyBits(model), data, giveUpAt, out payload, out length);

    /// <summary>
    /// Decodes exactly <paramref name="destination"/>.Length bytes from <paramref name="payload"/>; a payload that
    /// does not end exactly where the encoder ended is corrupt.
    /// </summary>
    public static void Decode(ISymbolModel model, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        if (model is ContextMixModel contextMix)
        {
            Decode(new ContextMixBits(contextMix), payload, destination);
        }
        else
        {
            Decode(new AnyBits(model), payload, destination);
        }
    }

    // The loops are generic over a struct so that each model gets its own compiled copy with direct calls.
    private static bool TryEncode<TBits>(TBits model, ReadOnlySpan<byte> data, int giveUpAt, out byte[] payload, out int length)
        where TBits : struct, IBitModel
    {
        var encoder = new ArithmeticEncoder(Math.Min(Math.Max(64, data.Length / 3), Math.Max(64, giveUpAt)));
        for (int n = 0; n < data.Length; n++)
        {
            int c = data[n];
            for (int i = 7; i >= 0; i--)
            {
                int bit = (c >> i) & 1;
                encoder.Encode(bit, model.Predict());
                model.Update(bit);
            }

            if (encoder.Length >= giveUpAt)
            {
                payload = [];
                length = 0;
                return false;
            }
        }

        encoder.Flush();
        if (encoder.Length >= giveUpAt)
        {
            payload = [];
            length = 0;
            return false;
        }

        payload = encoder.Buffer;
        length = encoder.Length;
        return true;
    }

    private static void Decode<TBits>(TBits model, ReadOnlySpan<byte> payload, Span<byte> destination)
        where TBits : struct, IBitModel
    {
        var decoder = new ArithmeticDecoder(payload);
        for (int n = 0; n < destination.Length; n++)
        {
            int c = 1;
            for (int i = 0; i < 8; i++)
            {
                int bit = decoder.Decode(model.Predict());
                model.Update(bit);
                c = (c << 1) | bit;
            }

            destination[n] = (byte)c;
            if (decoder.Overrun)
            {
                ThrowHelper.CorruptFrame($"model payload of {payload.Length} bytes ends before byte {n} of {destination.Length}");
            }
        }

        if (!decoder.EndsExactly)
        {
            ThrowHelper.CorruptFrame($"model payload of {payload.Length} bytes does not end where the coded data ends");
        }
    }

    private readonly struct ContextMixBits(ContextMixModel model) : IBitModel
    {
        public int Predict() => model.Predict();

        public void Update(int bit) => model.Update(bit);
    }

    private readonly struct AnyBits(ISymbolModel model) : IBitModel
    {
        public int Predict() => model.Predict();

        public void Update(int bit) => model.Update(bit);
    }
}
