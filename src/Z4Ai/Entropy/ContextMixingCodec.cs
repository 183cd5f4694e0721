using System.Buffers;
using System.Numerics;
using Z4Ai.Internal;

namespace Z4Ai.Entropy;

/// <summary>
/// Adaptive context-mixing coder (the max-effort tier): each symbol becomes a few binary decisions, each decision is
/// predicted by <see cref="ContextMixingModel"/> and coded by a carry-less 32-bit binary arithmetic coder.
/// </summary>
/// <remarks>
/// <para>Binarisation: the payload's first byte is the centre symbol (the most frequent). A symbol s maps to
/// v = zigzag(s − centre) over the alphabet's ring, so the common symbols get small v; then k = ⌊log2(v + 1)⌋ is
/// sent in unary (decision j = "k &gt; j", at most alphabetBits decisions) and, when k &lt; alphabetBits, the k low
/// bits of v + 1 most significant first. The centre symbol costs one decision, its neighbours three.</para>
/// <para>Arithmetic coder: the interval [low, high] starts as [0, 2^32 − 1]; a decision with 12-bit probability p of
/// a 1 splits it at mid = low + ((high − low) · p &gt;&gt; 12), a 1 keeping [low, mid] and a 0 keeping [mid + 1, high];
/// while the top bytes of low and high agree, that byte is output. The flush writes the four bytes of low, so the
/// decoder consumes exactly the bytes the encoder wrote; anything left over or missing is a corrupt frame.</para>
/// </remarks>
internal static class ContextMixingCodec
{
    /// <summary>Encodes <paramref name="symbols"/> and appends the payload; returns its length.</summary>
    public static int Encode(ReadOnlySpan<byte> symbols, int alphabetBits, int rowLength, IBufferWriter<byte> output)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            return 0;
        }

        int size = 1 << alphabetBits;
        Span<uint> counts = stackalloc uint[size];
        RansCodec.CountOrder0(symbols, counts);
        int centre = 0;
        for (int s = 1; s < size; s++)
        {
            centre = counts[s] > counts[centre] ? s : centre;
        }

        var writer = new ArrayBufferWriter<byte>(Math.Max(256, n / 2));
        writer.GetSpan(1)[0] = (byte)centre;
        writer.Advance(1);
        var model = new ContextMixingModel(n, alphabetBits, rowLength);
        var coder = new Encoder(writer);
        for (int i = 0; i < n; i++)
        {
            model.BeginSymbol(symbols, i);
            int v = ToRank(symbols[i], centre, size);
            int k = BitOperations.Log2((uint)v + 1);
            for (int j = 0; j < alphabetBits; j++)
            {
                int bit = k > j ? 1 : 0;
                coder.Encode(bit, model.Predict(j));
                model.Update(bit);
                if (bit == 0)
                {
                    break;
                }
            }

            if (k < alphabetBits)
            {
                int r = v + 1 - (1 << k);
                int tree = 1;
                for (int m = k - 1; m >= 0; m--)
                {
                    int bit = (r >> m) & 1;
                    coder.Encode(bit, model.Predict(alphabetBits + (1 << k) + tree - 2));
                    model.Update(bit);
                    tree = (tree << 1) | bit;
                }
            }

            model.EndSymbol(symbols[i]);
        }

        coder.Flush();
        output.Write(writer.WrittenSpan);
        return writer.WrittenCount;
    }

    /// <summary>Decodes exactly <paramref name="symbols"/>.Length symbols; bad input throws <see cref="Z4AiFormatException"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> encoded, int alphabetBits, int rowLength, Span<byte> symbols)
    {
        int n = symbols.Length;
        if (n == 0)
        {
            if (!encoded.IsEmpty)
            {
                ThrowHelper.CorruptFrame($"an empty context-mixing stream must have no payload, found {encoded.Length} bytes");
            }

            return;
        }

        int size = 1 << alphabetBits;
        if (encoded.Length < 5)
        {
            ThrowHelper.CorruptFrame($"context-mixing stream of {encoded.Length} bytes is shorter than its 5-byte minimum");
        }

        int centre = encoded[0];
        if (centre >= size)
        {
            ThrowHelper.CorruptFrame($"context-mixing centre symbol {centre} exceeds the alphabet");
        }

        var model = new ContextMixingModel(n, alphabetBits, rowLength);
        var coder = new Decoder(encoded[1..]);
        for (int i = 0; i < n; i++)
        {
            model.BeginSymbol(symbols, i);
            int k = 0;
            while (k < alphabetBits)
            {
                int bit = coder.Decode(model.Predict(k));
                model.Update(bit);
                if (bit == 0)
                {
                    break;
                }

                k++;
            }

            int value = 1;
            if (k < alphabetBits)
            {
                int tree = 1;
                for (int m = k - 1; m >= 0; m--)
                {
                    int bit = coder.Decode(model.Predict(alphabetBits + (1 << k) + tree - 2));
                    model.Update(bit);
                    tree = (tree << 1) | bit;
                }

                value = tree;
            }

            // value = v + 1 with its leading one at bit k (k = alphabetBits means v = 2^alphabetBits − 1).
            int v = (k < alphabetBits ? value : 1 << k) - 1;
            byte symbol = FromRank(v, centre, size);
            symbols[i] = symbol;
            model.EndSymbol(symbol);
        }

        coder.Finish();
    }

    // zigzag over the ring of the alphabet: d in [−size/2, size/2) → 0, −1, 1, −2, 2 … → 0, 1, 2, 3, 4 …
    private static int ToRank(int symbol, int centre, int size)
    {
        int d = (symbol - centre) & (size - 1);
        if (d >= size / 2)
        {
            d -= size;
        }

        return d >= 0 ? 2 * d : (-2 * d) - 1;
    }

    private static byte FromRank(int v, int centre, int size)
    {
        int d = (v & 1) == 0 ? v >> 1 : -((v + 1) >> 1);
        return (byte)((centre + d) & (size - 1));
    }

    private struct Encoder(ArrayBufferWriter<byte> output)
    {
        private uint _low;
        private uint _high = uint.MaxValue;

        public void Encode(int bit, int p)
        {
            uint mid = _low + (uint)(((ulong)(_high - _low) * (uint)p) >> 12);
            if (bit != 0)
            {
                _high = mid;
            }
            else
            {
                _low = mid + 1;
            }

            while (((_low ^ _high) & 0xFF000000u) == 0)
            {
                Put((byte)(_high >> 24));
                _low <<= 8;
                _high = (_high << 8) | 0xFF;
            }
        }

        public void Flush()
        {
            for (int i = 0; i < 4; i++)
            {
                Put((byte)(_low >> 24));
                _low <<= 8;
            }
        }

        private readonly void Put(byte b)
        {
            output.GetSpan(1)[0] = b;
            output.Advance(1);
        }
    }

    private ref struct Decoder
    {
        private readonly ReadOnlySpan<byte> _input;
        private int _position;
        private uint _low;
        private uint _high;
        private uint _x;

        public Decoder(ReadOnlySpan<byte> input)
        {
            _input = input;
            _low = 0;
            _high = uint.MaxValue;
            _x = 0;
            _position = 0;
            for (int i = 0; i < 4; i++)
            {
                _x = (_x << 8) | Next();
            }
        }

        public int Decode(int p)
        {
            uint mid = _low + (uint)(((ulong)(_high - _low) * (uint)p) >> 12);
            int bit;
            if (_x <= mid)
            {
                bit = 1;
                _high = mid;
            }
            else
            {
                bit = 0;
                _low = mid + 1;
            }

            while (((_low ^ _high) & 0xFF000000u) == 0)
            {
                _low <<= 8;
                _high = (_high << 8) | 0xFF;
                _x = (_x << 8) | Next();
            }

            return bit;
        }

        public readonly void Finish()
        {
            if (_position != _input.Length)
            {
                ThrowHelper.CorruptFrame($"context-mixing stream has {_input.Length - _position} bytes left after the last symbol");
            }
        }

        private uint Next()
        {
            if (_position >= _input.Length)
            {
                ThrowHelper.CorruptFrame("context-mixing stream ends early");
            }

            return _input[_position++];
        }
    }
}
