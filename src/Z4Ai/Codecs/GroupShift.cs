using System.Numerics;
using System.Runtime.InteropServices;

namespace Z4Ai.Codecs;

/// <summary>
/// Adds a per-group offset (mod 256) to byte symbols. A grouped palette numbers each group's codebook from its own
/// smallest value, so the same quantisation code gets a different index in a group that lacks an extreme code; and
/// each row of a weight matrix has its own scale, which moves its exponents by whole octaves. Shifting every group
/// so that a reference symbol (the zero entry, the row's most frequent exponent) lands on one common value gives the
/// entropy coder a single distribution instead of a mixture.
/// </summary>
internal static class GroupShift
{
    /// <summary>Writes <c>symbols[i] + offsets[i / groupLength]</c> (mod 256) into <paramref name="shifted"/>.</summary>
    public static void Forward(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> offsets, int groupLength, Span<byte> shifted)
    {
        symbols.CopyTo(shifted);
        for (int start = 0, g = 0; start < symbols.Length; start += groupLength, g++)
        {
            Add(shifted.Slice(start, Math.Min(groupLength, symbols.Length - start)), offsets[g]);
        }
    }

    /// <summary>Undoes <see cref="Forward"/> in place.</summary>
    public static void Inverse(Span<byte> symbols, ReadOnlySpan<byte> offsets, int groupLength)
    {
        for (int start = 0, g = 0; start < symbols.Length; start += groupLength, g++)
        {
            Add(symbols.Slice(start, Math.Min(groupLength, symbols.Length - start)), (byte)(256 - offsets[g]));
        }
    }

    // Adds a constant to every byte, modulo 256, a vector at a time.
    private static void Add(Span<byte> bytes, byte value)
    {
        if (value == 0)
        {
            return;
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated && bytes.Length >= Vector<byte>.Count)
        {
            var add = new Vector<byte>(value);
            Span<Vector<byte>> vectors = MemoryMarshal.Cast<byte, Vector<byte>>(bytes);
            for (int v = 0; v < vectors.Length; v++)
            {
                vectors[v] += add;
            }

            i = vectors.Length * Vector<byte>.Count;
        }

        for (; i < bytes.Length; i++)
        {
            bytes[i] += value;
        }
    }
}
