using System.Buffers;
using System.Numerics;
using Z4Ai.Internal;

namespace Z4Ai.Transforms;

/// <summary>
/// Drops bits that are zero in every element, or narrows floats that all fit a smaller format exactly: F32 holding
/// bf16 values becomes a BF16 stream, F32 holding fp16 values an F16 stream, F16 with 8 dead bits an F8_E5M2 stream,
/// F64 holding F32 values an F32 stream. The narrow stream is returned separately (with its dtype) so the codec can
/// compress it with the narrow dtype's best path.
/// </summary>
/// <remarks>
/// Analysis is one vectorised OR over the bytes (the common trailing-zero count of all lanes) plus, only when that
/// count allows it, one exact narrowing check per lane. Everything works on bit patterns: NaN payloads, -0.0,
/// subnormals and infinities round-trip, and a value that would not come back bit-exact rejects the mode.
/// Frame: the <see cref="DeadBitsPlan"/> parameter block, then the narrow stream.
/// </remarks>
internal static class DeadBits
{
    /// <summary>The lane a dtype is analysed in: its element size, 4 for C64 (two F32 values), 0 for sub-byte dtypes.</summary>
    public static int LaneBytesOf(DType dtype) => dtype == DType.C64 ? 4 : dtype.ElementSize();

    /// <summary>
    /// Finds the narrowest exact form of <paramref name="raw"/>. Returns false when none is smaller than the input.
    /// </summary>
    /// <param name="raw">Whole elements of <paramref name="dtype"/> (a tensor or a chunk of one).</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="plan">The chosen form.</param>
    /// <param name="allowBitPacked">
    /// When true, a shift that leaves a width that is not a whole number of bytes may be chosen (smallest output);
    /// when false only byte-aligned shifts are, which keeps the narrow stream friendly to byte-oriented coders.
    /// </param>
    public static bool TryPlan(ReadOnlySpan<byte> raw, DType dtype, out DeadBitsPlan plan, bool allowBitPacked = false)
    {
        plan = default;
        int lane = LaneBytesOf(dtype);
        if (lane == 0 || raw.IsEmpty || raw.Length % dtype.ElementSize() != 0)
        {
            return false;
        }

        int count = raw.Length / lane;
        int laneBits = lane * 8;
        ulong or = BitwiseScan.FoldToLane(BitwiseScan.OrWords(raw), lane);
        int zeros = or == 0 ? laneBits : BitOperations.TrailingZeroCount(or);

        // A float conversion keeps a typed stream the codec can narrow again, so when one applies it wins over any
        // shift that does not also give a typed stream (an F64 of bf16 values: F32 now, BF16 on the next level),
        // unless the shift leaves nothing at all (every lane zero).
        DeadBitsPlan? best = null;
        if (dtype is DType.F32 or DType.C64 && zeros >= 13 && AllNarrow(raw, FloatFormat.F32, FloatFormat.F16))
        {
            best = new DeadBitsPlan(dtype, DeadBitsMode.F32AsF16, 0, count);
        }
        else if (dtype == DType.F64 && zeros >= 29 && AllNarrow(raw, FloatFormat.F64, FloatFormat.F32))
        {
            best = new DeadBitsPlan(dtype, DeadBitsMode.F64AsF32, 0, count);
        }

        int aligned = zeros / 8 * 8;
        if (aligned >= 8)
        {
            var shift = new DeadBitsPlan(dtype, DeadBitsMode.Shift, aligned, count);
            if (best is null || shift.NarrowBits == 0 || (shift.NarrowDType is not null && shift.NarrowBits <= best.Value.NarrowBits))
            {
                best = shift;
            }
        }

        if (allowBitPacked && zeros != aligned && best is null or { Mode: DeadBitsMode.Shift })
        {
            best = new DeadBitsPlan(dtype, DeadBitsMode.Shift, zeros, count);
        }

        if (best is null || best.Value.EstimatedSize >= raw.Length)
        {
            return false;
        }

        plan = best.Value;
        return true;
    }

    /// <summary>Writes the narrow stream (<see cref="DeadBitsPlan.NarrowLength"/> bytes) of <paramref name="raw"/>.</summary>
    /// <exception cref="ArgumentException">The raw bytes do not match the plan (length, or a lane that is not exact).</exception>
    public static void Forward(ReadOnlySpan<byte> raw, in DeadBitsPlan plan, Span<byte> narrow)
    {
        CheckRaw(raw.Length, plan);
        int narrowLength = plan.NarrowLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(narrow.Length, narrowLength, nameof(narrow));
        narrow = narrow[..narrowLength];
        bool exact = plan.Mode switch
        {
            DeadBitsMode.F32AsF16 => NarrowFloats<Element4, Element2>(raw, narrow, FloatFormat.F32, FloatFormat.F16),
            DeadBitsMode.F64AsF32 => NarrowFloats<Element8, Element4>(raw, narrow, FloatFormat.F64, FloatFormat.F32),
            _ when plan.Shift % 8 == 0 => DropLowBytes(raw, narrow, plan.LaneBytes, plan.Shift / 8),
            _ => plan.LaneBytes switch
            {
                1 => ShiftPack<Element1>(raw, narrow, plan.Shift, plan.NarrowBits),
                2 => ShiftPack<Element2>(raw, narrow, plan.Shift, plan.NarrowBits),
                4 => ShiftPack<Element4>(raw, narrow, plan.Shift, plan.NarrowBits),
                _ => ShiftPack<Element8>(raw, narrow, plan.Shift, plan.NarrowBits),
            },
        };

        if (!exact)
        {
            throw new ArgumentException("the raw bytes have a lane the plan cannot represent exactly; plan again", nameof(raw));
        }
    }

    /// <summary>Rebuilds the raw bytes from a narrow stream.</summary>
    /// <exception cref="Z4AiFormatException">The narrow stream has the wrong length or non-zero padding.</exception>
    /// <exception cref="ArgumentException"><paramref name="raw"/> does not have the plan's length.</exception>
    public static void Inverse(ReadOnlySpan<byte> narrow, in DeadBitsPlan plan, Span<byte> raw)
    {
        CheckRaw(raw.Length, plan);
        if (narrow.Length != plan.NarrowLength)
        {
            ThrowHelper.CorruptFrame($"dead-bits stream has {narrow.Length} bytes, expected {plan.NarrowLength}");
        }

        if (!BitPacking.HasZeroPadding(narrow, plan.LaneCount, plan.NarrowBits))
        {
            ThrowHelper.CorruptFrame("dead-bits stream has non-zero padding bits");
        }

        switch (plan.Mode)
        {
            case DeadBitsMode.F32AsF16:
                WidenFloats<Element2, Element4>(narrow, raw, FloatFormat.F16, FloatFormat.F32);
                break;
            case DeadBitsMode.F64AsF32:
                WidenFloats<Element4, Element8>(narrow, raw, FloatFormat.F32, FloatFormat.F64);
                break;
            case DeadBitsMode.Shift when plan.Shift % 8 == 0:
                RestoreLowBytes(narrow, raw, plan.LaneBytes, plan.Shift / 8);
                break;
            default:
                switch (plan.LaneBytes)
                {
                    case 1:
                        ShiftUnpack<Element1>(narrow, raw, plan.Shift, plan.NarrowBits);
                        break;
                    case 2:
                        ShiftUnpack<Element2>(narrow, raw, plan.Shift, plan.NarrowBits);
                        break;
                    case 4:
                        ShiftUnpack<Element4>(narrow, raw, plan.Shift, plan.NarrowBits);
                        break;
                    default:
                        ShiftUnpack<Element8>(narrow, raw, plan.Shift, plan.NarrowBits);
                        break;
                }

                break;
        }
    }

    /// <summary>Appends the parameter block and the narrow stream; returns the bytes written (= EstimatedSize).</summary>
    public static int Encode(ReadOnlySpan<byte> raw, in DeadBitsPlan plan, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckRaw(raw.Length, plan);
        plan.Write(output);
        int length = plan.NarrowLength;
        Forward(raw, plan, output.GetSpan(length));
        output.Advance(length);
        return plan.EstimatedSize;
    }

    /// <summary>Decodes a frame written by <see cref="Encode"/> into exactly <paramref name="destination"/>.</summary>
    /// <exception cref="Z4AiFormatException">The frame is truncated, has trailing bytes, or is inconsistent.</exception>
    public static void Decode(ReadOnlySpan<byte> encoded, DType dtype, Span<byte> destination)
    {
        var reader = new SpanReader(encoded);
        DeadBitsPlan plan = DeadBitsPlan.Read(ref reader, dtype, destination.Length);
        ReadOnlySpan<byte> narrow = reader.ReadBytes(plan.NarrowLength);
        if (reader.Remaining != 0)
        {
            ThrowHelper.CorruptFrame($"dead-bits frame has {reader.Remaining} trailing bytes", reader.Position);
        }

        Inverse(narrow, plan, destination);
    }

    private static void CheckRaw(int rawLength, in DeadBitsPlan plan)
    {
        if (plan.LaneBytes == 0 || rawLength != (long)plan.LaneCount * plan.LaneBytes)
        {
            throw new ArgumentException($"the plan covers {plan.LaneCount} lanes of {plan.LaneBytes} bytes, not {rawLength} bytes");
        }
    }

    private static bool AllNarrow(ReadOnlySpan<byte> raw, FloatFormat from, FloatFormat to)
    {
        int size = from.TotalBits / 8;
        for (int i = 0; i < raw.Length; i += size)
        {
            if (!FloatBits.TryNarrow(Elements.Read(raw[i..], size), from, to, out _))
            {
                return false;
            }
        }

        return true;
    }

    private static bool NarrowFloats<TWide, TNarrow>(ReadOnlySpan<byte> raw, Span<byte> narrow, FloatFormat from, FloatFormat to)
        where TWide : struct, IElementAccess
        where TNarrow : struct, IElementAccess
    {
        int count = raw.Length / TWide.Size;
        for (int i = 0; i < count; i++)
        {
            if (!FloatBits.TryNarrow(Elements.Get<TWide>(raw, i), from, to, out ulong n))
            {
                return false;
            }

            Elements.Set<TNarrow>(narrow, i, n);
        }

        return true;
    }

    private static void WidenFloats<TNarrow, TWide>(ReadOnlySpan<byte> narrow, Span<byte> raw, FloatFormat from, FloatFormat to)
        where TNarrow : struct, IElementAccess
        where TWide : struct, IElementAccess
    {
        int count = raw.Length / TWide.Size;
        for (int i = 0; i < count; i++)
        {
            Elements.Set<TWide>(raw, i, FloatBits.Widen(Elements.Get<TNarrow>(narrow, i), from, to));
        }
    }

    // Byte-aligned shift: the narrow stream is the high bytes of each lane, little-endian, so it is a copy.
    private static bool DropLowBytes(ReadOnlySpan<byte> raw, Span<byte> narrow, int lane, int drop)
    {
        int keep = lane - drop;
        int count = raw.Length / lane;
        byte dropped = 0;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> element = raw.Slice(i * lane, lane);
            for (int b = 0; b < drop; b++)
            {
                dropped |= element[b];
            }

            element[drop..].CopyTo(narrow.Slice(i * keep, keep));
        }

        return dropped == 0;
    }

    private static void RestoreLowBytes(ReadOnlySpan<byte> narrow, Span<byte> raw, int lane, int drop)
    {
        int keep = lane - drop;
        int count = raw.Length / lane;
        for (int i = 0; i < count; i++)
        {
            Span<byte> element = raw.Slice(i * lane, lane);
            element[..drop].Clear();
            narrow.Slice(i * keep, keep).CopyTo(element[drop..]);
        }
    }

    private static bool ShiftPack<TE>(ReadOnlySpan<byte> raw, Span<byte> narrow, int shift, int bits)
        where TE : struct, IElementAccess
    {
        int count = raw.Length / TE.Size;
        ulong low = Elements.LowMask(shift);
        ulong dropped = 0;
        Span<ulong> block = stackalloc ulong[Elements.BlockLength];
        for (int start = 0; start < count; start += block.Length)
        {
            int n = Math.Min(block.Length, count - start);
            for (int j = 0; j < n; j++)
            {
                ulong v = Elements.Get<TE>(raw, start + j);
                dropped |= v & low;
                block[j] = shift >= 64 ? 0 : v >> shift;
            }

            BitPacking.Pack64(block[..n], bits, narrow[(int)((long)start * bits / 8)..]);
        }

        return dropped == 0;
    }

    private static void ShiftUnpack<TE>(ReadOnlySpan<byte> narrow, Span<byte> raw, int shift, int bits)
        where TE : struct, IElementAccess
    {
        int count = raw.Length / TE.Size;
        Span<ulong> block = stackalloc ulong[Elements.BlockLength];
        for (int start = 0; start < count; start += block.Length)
        {
            int n = Math.Min(block.Length, count - start);
            BitPacking.Unpack64(narrow[(int)((long)start * bits / 8)..], bits, block[..n]);
            for (int j = 0; j < n; j++)
            {
                Elements.Set<TE>(raw, start + j, shift >= 64 ? 0 : block[j] << shift);
            }
        }
    }
}
