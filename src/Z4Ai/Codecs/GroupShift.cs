namespace Z4Ai.Codecs;

/// <summary>
/// Adds a per-group offset (mod 256) to byte symbols. A grouped palette numbers each group's codebook from its own
/// smallest value, so the same quantisation code gets a different index in a group that lacks an extreme code;
/// shifting every group so that its zero entry lands on one common index gives the entropy coder a single
/// distribution instead of a mixture.
/// </summary>
internal static class GroupShift
{
    /// <summary>Writes <c>symbols[i] + offsets[i / groupLength]</c> (mod 256) into <paramref name="shifted"/>.</summary>
    public static void Forward(ReadOnlySpan<byte> symbols, ReadOnlySpan<byte> offsets, int groupLength, Span<byte> shifted)
    {
        for (int i = 0; i < symbols.Length; i++)
        {
            shifted[i] = (byte)(symbols[i] + offsets[i / groupLength]);
        }
    }

    /// <summary>Undoes <see cref="Forward"/> in place.</summary>
    public static void Inverse(Span<byte> symbols, ReadOnlySpan<byte> offsets, int groupLength)
    {
        for (int start = 0, g = 0; start < symbols.Length; start += groupLength, g++)
        {
            byte offset = offsets[g];
            Span<byte> group = symbols.Slice(start, Math.Min(groupLength, symbols.Length - start));
            for (int i = 0; i < group.Length; i++)
            {
                group[i] = (byte)(group[i] - offset);
            }
        }
    }
}
