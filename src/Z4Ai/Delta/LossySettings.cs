using System.Buffers;
using System.Buffers.Binary;
using Z4Ai.Internal;

namespace Z4Ai.Delta;

/// <summary>
/// The model-wide settings of a lossy delta in the integer form the file records (fractions in parts per million),
/// so the encoder's decisions do not depend on how a double prints.
/// </summary>
/// <remarks>
/// Byte layout: <c>u8 tier</c>, <c>varint group size</c> (0 = one group per row), <c>varint outlier ppm</c>,
/// <c>varint sparse ppm</c>, <c>u8 flags</c> (bit 0 drop-and-rescale, bit 1 refined 1-bit scales), <c>u64 seed</c>,
/// <c>varint min elements</c>, <c>u8 effort</c>.
/// </remarks>
internal readonly record struct LossySettings(
    LossyTier Tier,
    int GroupSize,
    int OutlierPpm,
    int SparsePpm,
    bool DropAndRescale,
    bool RefineScales,
    ulong Seed,
    int MinElements,
    CompressionEffort Effort)
{
    public const int Million = 1_000_000;

    public void Write(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(2);
        span[0] = (byte)Tier;
        output.Advance(1);
        VarInt.Write(output, (ulong)GroupSize);
        VarInt.Write(output, (ulong)OutlierPpm);
        VarInt.Write(output, (ulong)SparsePpm);
        span = output.GetSpan(9);
        span[0] = (byte)((DropAndRescale ? 1 : 0) | (RefineScales ? 2 : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(span[1..], Seed);
        output.Advance(9);
        VarInt.Write(output, (ulong)MinElements);
        output.GetSpan(1)[0] = (byte)Effort;
        output.Advance(1);
    }

    public static LossySettings Read(ref SpanReader reader)
    {
        byte tier = reader.ReadByte();
        if (tier > (byte)LossyTier.OneBit)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown lossy tier {tier}");
        }

        int groupSize = reader.ReadVarInt32();
        int outlierPpm = reader.ReadVarInt32(Million);
        int sparsePpm = reader.ReadVarInt32(Million);
        byte flags = reader.ReadByte();
        if (flags > 3)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown settings flags {flags}");
        }

        ulong seed = reader.ReadUInt64();
        int minElements = reader.ReadVarInt32();
        byte effort = reader.ReadByte();
        if (effort > (byte)CompressionEffort.Archive)
        {
            ThrowHelper.Format(Z4AiErrorKind.InvalidContainer, $"unknown effort {effort}");
        }

        return new LossySettings(
            (LossyTier)tier, groupSize, outlierPpm, sparsePpm, (flags & 1) != 0, (flags & 2) != 0, seed, minElements, (CompressionEffort)effort);
    }
}
