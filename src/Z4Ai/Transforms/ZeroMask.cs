using System.Buffers;
using System.Numerics;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>
/// Separates where the non-zero elements are from what they are: a positions stream (a bitmap, or for very sparse
/// data the gaps between non-zero elements) and the dense non-zero elements, which keep the dtype and can be
/// compressed further. Chosen only when it is smaller than the input.
/// </summary>
/// <remarks>
/// "Zero" is a bit pattern: all bytes of the element zero. -0.0 and NaN are non-zero, so the transform is exact for
/// every dtype. Frame: the <see cref="ZeroMaskPlan"/> parameter block, the positions, the values.
/// </remarks>
internal static class ZeroMask
{
    /// <summary>Counts zeros and picks the smaller of bitmap and sparse positions; false when neither pays.</summary>
    public static bool TryPlan(ReadOnlySpan<byte> raw, DType dtype, out ZeroMaskPlan plan)
    {
        plan = default;
        int size = dtype.ElementSize();
        if (size == 0 || raw.IsEmpty || raw.Length % size != 0)
        {
            return false;
        }

        (int nonZero, long gapBytes) = size switch
        {
            1 => Count<Element1>(raw),
            2 => Count<Element2>(raw),
            4 => Count<Element4>(raw),
            _ => Count<Element8>(raw),
        };

        int count = raw.Length / size;
        var bitmap = new ZeroMaskPlan(ZeroMaskLayout.Bitmap, size, count, nonZero, (int)BitPacking.GetPackedLength(count, 1));
        ZeroMaskPlan best = bitmap;
        if (gapBytes < bitmap.PositionsLength)
        {
            best = new ZeroMaskPlan(ZeroMaskLayout.Sparse, size, count, nonZero, (int)gapBytes);
        }

        if (best.EstimatedSize >= raw.Length)
        {
            return false;
        }

        plan = best;
        return true;
    }

    /// <summary>Writes the positions and values streams.</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong size, or <paramref name="raw"/> does not match the plan.</exception>
    public static void Forward(ReadOnlySpan<byte> raw, in ZeroMaskPlan plan, Span<byte> positions, Span<byte> values)
    {
        CheckRaw(raw.Length, plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(positions.Length, plan.PositionsLength, nameof(positions));
        ArgumentOutOfRangeException.ThrowIfLessThan(values.Length, plan.ValuesLength, nameof(values));
        bool matches = plan.ElementSize switch
        {
            1 => Split<Element1>(raw, plan, positions[..plan.PositionsLength], values[..plan.ValuesLength]),
            2 => Split<Element2>(raw, plan, positions[..plan.PositionsLength], values[..plan.ValuesLength]),
            4 => Split<Element4>(raw, plan, positions[..plan.PositionsLength], values[..plan.ValuesLength]),
            _ => Split<Element8>(raw, plan, positions[..plan.PositionsLength], values[..plan.ValuesLength]),
        };

        if (!matches)
        {
            throw new ArgumentException("the raw bytes do not have the planned zero pattern; plan again", nameof(raw));
        }
    }

    /// <summary>Rebuilds the raw bytes from the positions and values streams.</summary>
    /// <exception cref="Z4AiFormatException">A stream has the wrong length or contradicts the parameters.</exception>
    public static void Inverse(ReadOnlySpan<byte> positions, ReadOnlySpan<byte> values, in ZeroMaskPlan plan, Span<byte> raw)
    {
        CheckRaw(raw.Length, plan);
        if (positions.Length != plan.PositionsLength || values.Length != plan.ValuesLength)
        {
            ThrowHelper.CorruptFrame(
                $"zero-mask streams have {positions.Length} and {values.Length} bytes, expected {plan.PositionsLength} and {plan.ValuesLength}");
        }

        int size = plan.ElementSize;
        if (plan.Layout == ZeroMaskLayout.Bitmap)
        {
            long set = 0;
            for (int i = 0; i < positions.Length; i++)
            {
                set += BitOperations.PopCount(positions[i]);
            }

            if (set != plan.NonZeroCount || !BitPacking.HasZeroPadding(positions, plan.ElementCount, 1))
            {
                ThrowHelper.CorruptFrame($"zero-mask bitmap marks {set} elements, expected {plan.NonZeroCount} and zero padding");
            }

            int next = 0;
            for (int i = 0; i < plan.ElementCount; i++)
            {
                Span<byte> element = raw.Slice(i * size, size);
                if (((positions[i >> 3] >> (i & 7)) & 1) != 0)
                {
                    values.Slice(next, size).CopyTo(element);
                    next += size;
                }
                else
                {
                    element.Clear();
                }
            }

            return;
        }

        raw.Clear();
        var reader = new SpanReader(positions);
        long index = -1;
        for (int k = 0; k < plan.NonZeroCount; k++)
        {
            ulong gap = reader.ReadVarUInt64();
            if (gap >= (ulong)plan.ElementCount)
            {
                ThrowHelper.CorruptFrame($"zero-mask gap {gap} runs past {plan.ElementCount} elements", reader.Position);
            }

            index += (long)gap + 1;
            if (index >= plan.ElementCount)
            {
                ThrowHelper.CorruptFrame($"zero-mask position {index} is past {plan.ElementCount} elements", reader.Position);
            }

            values.Slice(k * size, size).CopyTo(raw.Slice((int)index * size, size));
        }

        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"zero-mask gap stream has {reader.Remaining} trailing bytes", reader.Position);
        }
    }

    /// <summary>Appends the parameter block and both streams; returns the bytes written (= EstimatedSize).</summary>
    public static int Encode(ReadOnlySpan<byte> raw, in ZeroMaskPlan plan, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckRaw(raw.Length, plan);
        plan.Write(output);
        int body = plan.PositionsLength + plan.ValuesLength;
        Span<byte> span = output.GetSpan(body);
        Forward(raw, plan, span[..plan.PositionsLength], span.Slice(plan.PositionsLength, plan.ValuesLength));
        output.Advance(body);
        return plan.EstimatedSize;
    }

    /// <summary>Decodes a frame written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="Z4AiFormatException">The frame is truncated, has trailing bytes, or is inconsistent.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, DType dtype, Span<byte> destination)
    {
        var reader = new SpanReader(encoded);
        ZeroMaskPlan plan = ZeroMaskPlan.Read(ref reader, dtype, destination.Length);
        ReadOnlySpan<byte> positions = reader.ReadBytes(plan.PositionsLength);
        ReadOnlySpan<byte> values = reader.ReadBytes(plan.ValuesLength);
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"zero-mask frame has {reader.Remaining} trailing bytes", reader.Position);
        }

        Inverse(positions, values, plan, destination);
    }

    private static void CheckRaw(int rawLength, in ZeroMaskPlan plan)
    {
        if (plan.ElementSize == 0 || rawLength != (long)plan.ElementCount * plan.ElementSize)
        {
            throw new ArgumentException($"the plan covers {plan.ElementCount} elements of {plan.ElementSize} bytes, not {rawLength} bytes");
        }
    }

    private static (int NonZero, long GapBytes) Count<TE>(ReadOnlySpan<byte> raw)
        where TE : struct, IElementAccess
    {
        int count = raw.Length / TE.Size;
        int nonZero = 0;
        long gapBytes = 0;
        int last = -1;
        for (int i = 0; i < count; i++)
        {
            if (Elements.Get<TE>(raw, i) != 0)
            {
                nonZero++;
                gapBytes += VarInt.GetLength((ulong)(i - last - 1));
                last = i;
            }
        }

        return (nonZero, gapBytes);
    }

    private static bool Split<TE>(ReadOnlySpan<byte> raw, in ZeroMaskPlan plan, Span<byte> positions, Span<byte> values)
        where TE : struct, IElementAccess
    {
        int count = plan.ElementCount;
        int next = 0;
        int written = 0;
        int last = -1;
        bool bitmap = plan.Layout == ZeroMaskLayout.Bitmap;
        if (bitmap)
        {
            positions.Clear();
        }

        for (int i = 0; i < count; i++)
        {
            ulong v = Elements.Get<TE>(raw, i);
            if (v == 0)
            {
                continue;
            }

            if (next == plan.NonZeroCount)
            {
                return false;
            }

            Elements.Set<TE>(values, next++, v);
            if (bitmap)
            {
                positions[i >> 3] |= (byte)(1 << (i & 7));
            }
            else
            {
                ulong gap = (ulong)(i - last - 1);
                if (written + VarInt.GetLength(gap) > positions.Length)
                {
                    return false;
                }

                written += VarInt.Write(positions[written..], gap);
                last = i;
            }
        }

        return next == plan.NonZeroCount && (bitmap || written == positions.Length);
    }
}
