using System.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>
/// Integer tensors with a narrow range (frame of reference: subtract the minimum, pack k bits) or a regular
/// progression (delta: subtract the previous element and the smallest delta, pack k bits), whichever is smaller.
/// Position ids 0, 1, 2, ... pack to zero bits per element.
/// </summary>
/// <remarks>
/// Deltas go through a frame of reference instead of zigzag: the packed width is then the bit length of
/// <c>maxDelta - minDelta</c>, never wider than zigzag's <c>max(|minDelta|, |maxDelta|) * 2</c>, and exactly 0 for
/// any arithmetic progression. Frame: the <see cref="IntPackPlan"/> parameter block, then the packed values.
/// </remarks>
internal static class IntPack
{
    /// <summary>True for the integer dtypes the transform handles (I8..I64, U8..U64).</summary>
    public static bool IsApplicable(DType dtype) => Elements.IsSignedInteger(dtype) || Elements.IsUnsignedInteger(dtype);

    /// <summary>Measures range and delta range in one pass; false when neither form is smaller than the input.</summary>
    public static bool TryPlan(ReadOnlySpan<byte> raw, DType dtype, out IntPackPlan plan)
    {
        plan = default;
        if (!IsApplicable(dtype))
        {
            return false;
        }

        int size = dtype.ElementSize();
        if (raw.IsEmpty || raw.Length % size != 0)
        {
            return false;
        }

        bool signed = Elements.IsSignedInteger(dtype);
        Stats s = size switch
        {
            1 => Analyze<Element1>(raw, signed),
            2 => Analyze<Element2>(raw, signed),
            4 => Analyze<Element4>(raw, signed),
            _ => Analyze<Element8>(raw, signed),
        };

        int count = raw.Length / size;
        IntPackPlan best = new(IntPackMode.FrameOfReference, BitPacking.BitsFor(s.Range), size, count, s.Min, 0);
        if (count >= 2)
        {
            var delta = new IntPackPlan(
                IntPackMode.Delta, BitPacking.BitsFor(s.DeltaRange), size, count, s.First, s.MinDelta & Elements.LowMask(size * 8));
            if (delta.EstimatedSize < best.EstimatedSize)
            {
                best = delta;
            }
        }

        if (best.EstimatedSize >= raw.Length)
        {
            return false;
        }

        plan = best;
        return true;
    }

    /// <summary>Writes the packed stream (<see cref="IntPackPlan.PackedLength"/> bytes).</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong size, or a value falls outside the planned range.</exception>
    public static void Forward(ReadOnlySpan<byte> raw, in IntPackPlan plan, Span<byte> packed)
    {
        CheckRaw(raw.Length, plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(packed.Length, plan.PackedLength, nameof(packed));
        switch (plan.ElementSize)
        {
            case 1:
                Pack<Element1>(raw, plan, packed);
                break;
            case 2:
                Pack<Element2>(raw, plan, packed);
                break;
            case 4:
                Pack<Element4>(raw, plan, packed);
                break;
            default:
                Pack<Element8>(raw, plan, packed);
                break;
        }
    }

    /// <summary>Rebuilds the raw bytes from the packed stream.</summary>
    /// <exception cref="Z4AiFormatException">The stream has the wrong length or non-zero padding.</exception>
    public static void Inverse(ReadOnlySpan<byte> packed, in IntPackPlan plan, Span<byte> raw)
    {
        CheckRaw(raw.Length, plan);
        if (packed.Length != plan.PackedLength || !BitPacking.HasZeroPadding(packed, plan.PackedCount, plan.Bits))
        {
            ThrowHelper.CorruptFrame($"integer-pack stream has {packed.Length} bytes, expected {plan.PackedLength} with zero padding");
        }

        switch (plan.ElementSize)
        {
            case 1:
                Unpack<Element1>(packed, plan, raw);
                break;
            case 2:
                Unpack<Element2>(packed, plan, raw);
                break;
            case 4:
                Unpack<Element4>(packed, plan, raw);
                break;
            default:
                Unpack<Element8>(packed, plan, raw);
                break;
        }
    }

    /// <summary>Appends the parameter block and the packed stream; returns the bytes written (= EstimatedSize).</summary>
    public static int Encode(ReadOnlySpan<byte> raw, in IntPackPlan plan, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckRaw(raw.Length, plan);
        plan.Write(output);
        int length = plan.PackedLength;
        Forward(raw, plan, output.GetSpan(length));
        output.Advance(length);
        return plan.EstimatedSize;
    }

    /// <summary>Decodes a frame written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="Z4AiFormatException">The frame is truncated, has trailing bytes, or is inconsistent.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, DType dtype, Span<byte> destination)
    {
        var reader = new SpanReader(encoded);
        IntPackPlan plan = IntPackPlan.Read(ref reader, dtype, destination.Length);
        ReadOnlySpan<byte> packed = reader.ReadBytes(plan.PackedLength);
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"integer-pack frame has {reader.Remaining} trailing bytes", reader.Position);
        }

        Inverse(packed, plan, destination);
    }

    private static void CheckRaw(int rawLength, in IntPackPlan plan)
    {
        if (plan.ElementSize == 0 || rawLength != (long)plan.ElementCount * plan.ElementSize
            || (plan.Mode == IntPackMode.Delta && plan.ElementCount < 2))
        {
            throw new ArgumentException($"the plan covers {plan.ElementCount} elements of {plan.ElementSize} bytes, not {rawLength} bytes");
        }
    }

    // Signed values are compared through key = v ^ signBit, which orders two's complement like unsigned; min and max
    // are then plain unsigned, and max - min is the modular distance. Deltas are sign-extended to 64 bits so their
    // range is a 64-bit unsigned difference even for 64-bit elements.
    private static Stats Analyze<TE>(ReadOnlySpan<byte> raw, bool signed)
        where TE : struct, IElementAccess
    {
        int bits = TE.Size * 8;
        ulong flip = signed ? 1UL << (bits - 1) : 0;
        ulong mask = Elements.LowMask(bits);
        int count = raw.Length / TE.Size;
        ulong first = Elements.Get<TE>(raw, 0);
        ulong minKey = first ^ flip, maxKey = minKey;
        long minDelta = long.MaxValue, maxDelta = long.MinValue;
        ulong previous = first;
        for (int i = 1; i < count; i++)
        {
            ulong v = Elements.Get<TE>(raw, i);
            ulong key = v ^ flip;
            minKey = Math.Min(minKey, key);
            maxKey = Math.Max(maxKey, key);
            long delta = Elements.SignExtend((v - previous) & mask, bits);
            minDelta = Math.Min(minDelta, delta);
            maxDelta = Math.Max(maxDelta, delta);
            previous = v;
        }

        ulong deltaRange = count >= 2 ? (ulong)maxDelta - (ulong)minDelta : 0;
        return new Stats(minKey ^ flip, maxKey - minKey, first, count >= 2 ? (ulong)minDelta : 0, deltaRange);
    }

    private static void Pack<TE>(ReadOnlySpan<byte> raw, in IntPackPlan plan, Span<byte> packed)
        where TE : struct, IElementAccess
    {
        int bits = TE.Size * 8;
        ulong mask = Elements.LowMask(bits);
        bool delta = plan.Mode == IntPackMode.Delta;
        int offset = delta ? 1 : 0;
        int count = plan.PackedCount;
        if (delta && Elements.Get<TE>(raw, 0) != plan.Reference)
        {
            throw new ArgumentException("the first element is not the planned reference; plan again", nameof(raw));
        }

        Span<ulong> block = stackalloc ulong[Elements.BlockLength];
        for (int start = 0; start < count; start += block.Length)
        {
            int n = Math.Min(block.Length, count - start);
            for (int j = 0; j < n; j++)
            {
                int i = start + j + offset;
                ulong v = Elements.Get<TE>(raw, i);

                // Both forms are modular differences, so they fit the plan's bits exactly when the plan still
                // describes the data; BitPacking rejects a value that does not.
                block[j] = delta
                    ? (v - Elements.Get<TE>(raw, i - 1) - plan.MinDelta) & mask
                    : (v - plan.Reference) & mask;
            }

            BitPacking.Pack64(block[..n], plan.Bits, packed[(int)((long)start * plan.Bits / 8)..]);
        }
    }

    private static void Unpack<TE>(ReadOnlySpan<byte> packed, in IntPackPlan plan, Span<byte> raw)
        where TE : struct, IElementAccess
    {
        ulong mask = Elements.LowMask(TE.Size * 8);
        bool delta = plan.Mode == IntPackMode.Delta;
        int count = plan.PackedCount;
        ulong previous = plan.Reference;
        if (delta)
        {
            Elements.Set<TE>(raw, 0, previous);
        }

        Span<ulong> block = stackalloc ulong[Elements.BlockLength];
        for (int start = 0; start < count; start += block.Length)
        {
            int n = Math.Min(block.Length, count - start);
            BitPacking.Unpack64(packed[(int)((long)start * plan.Bits / 8)..], plan.Bits, block[..n]);
            for (int j = 0; j < n; j++)
            {
                if (delta)
                {
                    previous = (previous + plan.MinDelta + block[j]) & mask;
                    Elements.Set<TE>(raw, start + j + 1, previous);
                }
                else
                {
                    Elements.Set<TE>(raw, start + j, (plan.Reference + block[j]) & mask);
                }
            }
        }
    }

    private readonly record struct Stats(ulong Min, ulong Range, ulong First, ulong MinDelta, ulong DeltaRange);
}
