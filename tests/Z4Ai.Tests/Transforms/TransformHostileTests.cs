using System.Buffers;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

/// <summary>Truncated, mutated and hand-made frames: decoding either succeeds or throws <see cref="Z4AiFormatException"/>.</summary>
public class TransformHostileTests
{
    private static IEnumerable<TensorSample> Samples()
    {
        int seed = 1000;
        foreach (DType dtype in new[] { DType.F32, DType.BF16, DType.F16, DType.F64, DType.C64, DType.I64, DType.U16, DType.I8, DType.BOOL })
        {
            for (int kind = 0; kind < TransformSamples.KindCount; kind++)
            {
                yield return TransformSamples.Build(dtype, 300, kind, seed++);
            }
        }

        yield return TransformSamples.Build(DType.F32, 2048, 7, 7); // grouped palette with affine groups
    }

    private static void AssertOnlyFormatErrors(string what, TransformAssert.Decoder decode, byte[] frame, int destinationLength)
    {
        var destination = new byte[destinationLength];
        try
        {
            decode(frame, destination);
        }
        catch (Z4AiFormatException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what}: {ex.GetType().Name} escaped: {ex.Message}");
        }
    }

    [Test]
    public void Decode_MutatedFrames_ThrowOnlyFormatExceptions()
    {
        var random = new Random(4242);
        int frames = 0;
        int rejected = 0;
        foreach (TensorSample s in Samples())
        {
            foreach ((string name, byte[] frame, TransformAssert.Decoder decode) in TransformAssert.Frames(s))
            {
                frames++;
                for (int m = 0; m < 60; m++)
                {
                    byte[] mutated = Mutate(frame, random, m);
                    var destination = new byte[s.Raw.Length];
                    try
                    {
                        decode(mutated, destination);
                    }
                    catch (Z4AiFormatException)
                    {
                        rejected++;
                    }
                    catch (Exception ex)
                    {
                        Assert.Fail($"{name} {s} mutation {m}: {ex.GetType().Name} escaped: {ex.Message}");
                    }
                }
            }
        }

        Assert.That(frames, Is.GreaterThan(50));
        Assert.That(rejected, Is.GreaterThan(frames * 10), "most mutations must be detected");
    }

    private static byte[] Mutate(byte[] frame, Random random, int round)
    {
        if (frame.Length == 0)
        {
            return [(byte)random.Next(256)];
        }

        byte[] copy = (byte[])frame.Clone();
        switch (round % 6)
        {
            case 0:
                copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                return copy;
            case 1:
                // The parameter block lives at the front: hit it more often.
                copy[random.Next(Math.Min(copy.Length, 8))] = (byte)random.Next(256);
                return copy;
            case 2:
                return copy[..random.Next(copy.Length)];
            case 3:
                return [.. copy, (byte)random.Next(256)];
            case 4:
            {
                int at = random.Next(copy.Length);
                copy[at] = 0xFF; // a varint that never ends, or a huge count
                return copy;
            }

            default:
                for (int i = 0; i < 3; i++)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }

                return copy;
        }
    }

    [Test]
    public void Decode_WrongDestinationLengthOrDType_ThrowsOnlyFormatExceptions()
    {
        foreach (TensorSample s in Samples().Take(40))
        {
            foreach ((string name, byte[] frame, TransformAssert.Decoder _) in TransformAssert.Frames(s))
            {
                foreach (int delta in new[] { -8, -1, 1, 8 })
                {
                    int length = s.Raw.Length + delta;
                    if (length < 0)
                    {
                        continue;
                    }

                    foreach (DType dtype in TransformSamples.WholeByteDTypes)
                    {
                        AssertOnlyFormatErrors($"{name} as {dtype.GetName()} into {length}", DecoderFor(name, dtype), frame, length);
                    }
                }

                foreach (DType dtype in TransformSamples.WholeByteDTypes)
                {
                    AssertOnlyFormatErrors($"{name} as {dtype.GetName()}", DecoderFor(name, dtype), frame, s.Raw.Length);
                }
            }
        }
    }

    private static TransformAssert.Decoder DecoderFor(string name, DType dtype) => name switch
    {
        "dead" => (e, d) => DeadBits.Decode(e, dtype, d),
        "palette" => (e, d) => Palette.Decode(e, dtype, d),
        "zero" => (e, d) => ZeroMask.Decode(e, dtype, d),
        "int" => (e, d) => IntPack.Decode(e, dtype, d),
        _ => (e, d) => BoolPack.Decode(e, dtype, d),
    };

    [Test]
    public void Decode_EmptyFrame_ThrowsFormatException()
    {
        var destination = new byte[64];
        Assert.Throws<Z4AiFormatException>(() => DeadBits.Decode([], DType.F32, destination));
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode([], DType.F32, destination));
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Decode([], DType.F32, destination));
        Assert.Throws<Z4AiFormatException>(() => IntPack.Decode([], DType.I32, destination));
        Assert.Throws<Z4AiFormatException>(() => BoolPack.Decode([], DType.BOOL, destination));
    }

    [Test]
    public void Decode_DeltaFrameForFewerThanTwoElements_ThrowsFormatException()
    {
        // Delta mode, 0 bits, first = 5, minDelta = 0: valid for two bytes, not for one or none.
        byte[] frame = [(byte)IntPackMode.Delta, 0, 5, 0];
        var two = new byte[2];
        IntPack.Decode(frame, DType.U8, two);
        Assert.That(two, Is.EqualTo(new byte[] { 5, 5 }));
        Assert.Throws<Z4AiFormatException>(() => IntPack.Decode(frame, DType.U8, new byte[1]));
        Assert.Throws<Z4AiFormatException>(() => IntPack.Decode(frame, DType.U8, []));
    }

    [Test]
    public void Decode_EmptyDestination_NeverWritesOutOfBounds()
    {
        foreach (TensorSample s in Samples().Take(20))
        {
            foreach ((string name, byte[] frame, TransformAssert.Decoder decode) in TransformAssert.Frames(s))
            {
                AssertOnlyFormatErrors($"{name} into nothing", decode, frame, 0);
                AssertOnlyFormatErrors($"{name} parameters only into nothing", decode, frame[..Math.Min(frame.Length, 3)], 0);
            }
        }
    }

    [Test]
    public void Decode_HugeDeclaredCounts_ThrowFormatExceptionBeforeAllocating()
    {
        var destination = new byte[64];
        byte[] huge = [0xFF, 0xFF, 0xFF, 0xFF, 0x07];

        // Palette: global layout, 8-bit indices, 2^31 - 1 codebook entries for 16 elements.
        var e = Assert.Throws<Z4AiFormatException>(() => Palette.Decode([0, 8, .. huge], DType.F32, destination));
        Assert.That(e!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));

        // Palette: grouped, a group table longer than four bytes per group.
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode([1, 4, 2, 8, .. huge], DType.F32, destination));

        // Zero mask: more non-zero elements than elements; a sparse gap stream longer than 5 bytes per gap.
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Decode([0, .. huge], DType.F32, destination));
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Decode([1, 2, .. huge], DType.F32, destination));

        // A varint of eleven bytes.
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Decode([0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], DType.F32, destination));
    }

    [Test]
    public void Decode_ParametersThatDoNotFitTheDType_ThrowFormatException()
    {
        var destination = new byte[64];
        Assert.Throws<Z4AiFormatException>(() => DeadBits.Decode([9], DType.F32, destination), "unknown mode");
        Assert.Throws<Z4AiFormatException>(() => DeadBits.Decode([0, 33], DType.F32, destination), "shift wider than the lane");
        Assert.Throws<Z4AiFormatException>(() => DeadBits.Decode([0, 0], DType.F32, destination), "shift zero");
        Assert.Throws<Z4AiFormatException>(() => DeadBits.Decode([(byte)DeadBitsMode.F64AsF32], DType.F32, destination), "mode for another dtype");
        Assert.Throws<Z4AiFormatException>(() => IntPack.Decode([0, 33, 0, 0, 0, 0], DType.I32, destination), "more bits than the element");
        Assert.Throws<Z4AiFormatException>(() => IntPack.Decode([2, 3, 0, 0, 0, 0], DType.I32, destination), "unknown mode");
        Assert.Throws<Z4AiFormatException>(() => IntPack.Decode([0, 3, 0, 0, 0, 0], DType.F32, destination), "float dtype");
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode([0, 17, 1], DType.F32, destination), "17-bit indices");
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode([0, 9, 1], DType.U8, destination), "9-bit indices for bytes");
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode([2, 1, 1], DType.F32, destination), "unknown layout");
        Assert.Throws<Z4AiFormatException>(() => BoolPack.Decode(new byte[8], DType.F32, destination), "bool frame for floats");
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Decode([2, 0], DType.F32, destination), "unknown zero layout");
    }

    [Test]
    public void Decode_PaletteIndexOutsideCodebook_ThrowsFormatException()
    {
        // 4 F32 elements, global, 2-bit indices, 2 entries; index 3 points past the codebook.
        byte[] frame = [0, 2, 2, 0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0b11_00_01_00];
        var destination = new byte[16];
        frame[^1] = 0b01_00_01_00;
        Palette.Decode(frame, DType.F32, destination);
        Assert.That(BitConverter.ToSingle(destination, 4), Is.EqualTo(1.0f));
        frame[^1] = 0b11_00_01_00;
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode(frame, DType.F32, destination));
    }

    [Test]
    public void Decode_PaletteAffineProductOverflows_ThrowsFormatException()
    {
        // 4 F32 elements in one grouped affine group: c0 = 0, scale = float.MaxValue, index 2 overflows.
        byte[] frame = [1, 2, 1, 4, 1, 1, .. BitConverter.GetBytes(float.MaxValue), 0b00_00_01_00];
        var destination = new byte[16];
        Palette.Decode(frame, DType.F32, destination);
        Assert.That(BitConverter.ToSingle(destination, 4), Is.EqualTo(float.MaxValue));
        frame[^1] = 0b00_10_01_00;
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode(frame, DType.F32, destination));

        // Affine groups are for IEEE float dtypes only.
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode(frame, DType.I32, destination));
    }

    [Test]
    public void Decode_PaletteWideAffineOverflowsOrWrongDType_ThrowsFormatException()
    {
        // 4 BF16 elements in one affine group with an F32 scale (two entries): c0 = 0, scale = 2^127, 2-bit indices.
        byte[] frame = [2, 2, 2, 4, 1, 1, .. BitConverter.GetBytes(BitConverter.UInt32BitsToSingle(0x7F000000)), 0b00_00_01_00];
        var destination = new byte[8];
        Palette.Decode(frame, DType.BF16, destination);
        Assert.That(BitConverter.ToUInt16(destination, 2), Is.EqualTo(0x7F00));
        frame[^1] = 0b00_10_01_00; // 2 * 2^127 overflows
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode(frame, DType.BF16, destination));

        // F32 scales are for 16-bit floats only; one entry cannot hold one.
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode(frame, DType.F32, new byte[16]));
        byte[] oneEntry = [2, 2, 1, 4, 1, 1, 0x00, 0x3F, 0b00_00_01_00];
        Assert.Throws<Z4AiFormatException>(() => Palette.Decode(oneEntry, DType.BF16, destination));
    }

    [Test]
    public void Inverse_StreamsOfWrongLength_ThrowFormatException()
    {
        TensorSample s = TransformSamples.Build(DType.F32, 100, 3, 1);
        Assert.That(ZeroMask.TryPlan(s.Raw, s.DType, out ZeroMaskPlan zero), Is.True);
        var raw = new byte[s.Raw.Length];
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Inverse(new byte[zero.PositionsLength + 1], new byte[zero.ValuesLength], zero, raw));
        Assert.Throws<Z4AiFormatException>(() => ZeroMask.Inverse(new byte[zero.PositionsLength], new byte[zero.ValuesLength - 1], zero, raw));

        Assert.That(IntPack.TryPlan(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, DType.U8, out IntPackPlan ints), Is.True);
        Assert.Throws<Z4AiFormatException>(() => IntPack.Inverse(new byte[ints.PackedLength + 1], ints, new byte[9]));
    }

    [Test]
    public void Forward_RawChangedAfterPlanning_ThrowsArgumentException()
    {
        TensorSample s = TransformSamples.Build(DType.F32, 256, 6, 3); // half-origin floats
        Assert.That(DeadBits.TryPlan(s.Raw, s.DType, out DeadBitsPlan dead), Is.True);
        byte[] changed = (byte[])s.Raw.Clone();
        changed[0] |= 1; // a bit the narrow form cannot hold
        Assert.Throws<ArgumentException>(() => DeadBits.Forward(changed, dead, new byte[dead.NarrowLength]));
        Assert.Throws<ArgumentOutOfRangeException>(() => DeadBits.Forward(s.Raw, dead, new byte[dead.NarrowLength - 1]));
        Assert.Throws<ArgumentException>(() => DeadBits.Forward(s.Raw.AsSpan(4), dead, new byte[dead.NarrowLength]));

        byte[] codes = [.. Enumerable.Range(0, 256).Select(i => (byte)(i % 3))];
        Assert.That(Palette.TryPlan(codes, DType.U8, [], out PalettePlan? palette), Is.True);
        codes[10] = 7;
        Assert.Throws<ArgumentException>(() => Palette.ForwardIndices(codes, palette!, new byte[palette!.Parameters.IndicesLength]));

        byte[] bools = [0, 1, 1, 0, 0, 0, 1, 0, 1];
        Assert.That(BoolPack.TryPlan(bools, DType.BOOL, out BoolPackPlan bp), Is.True);
        bools[3] = 2;
        Assert.Throws<ArgumentException>(() => BoolPack.Forward(bools, bp, new byte[2]));

        byte[] small = [10, 11, 12, 13, 14, 15, 16, 17];
        Assert.That(IntPack.TryPlan(small, DType.U8, out IntPackPlan ip), Is.True);
        small[7] = 200;
        Assert.Throws<ArgumentException>(() => IntPack.Forward(small, ip, new byte[ip.PackedLength]));

        byte[] sparse = new byte[400];
        sparse[17] = 1;
        Assert.That(ZeroMask.TryPlan(sparse, DType.F32, out ZeroMaskPlan zp), Is.True);
        sparse[99] = 1;
        Assert.Throws<ArgumentException>(() => ZeroMask.Forward(sparse, zp, new byte[zp.PositionsLength], new byte[zp.ValuesLength]));
    }

    [Test]
    public void Encode_ExactSizedWriterBuffer_WritesEstimatedSize()
    {
        TensorSample s = TransformSamples.Build(DType.BF16, 500, 1, 5);
        Assert.That(Palette.TryPlan(s.Raw, s.DType, s.Shape, out PalettePlan? plan), Is.True);
        var exact = new ArrayBufferWriter<byte>(plan!.EstimatedSize);
        Assert.That(Palette.Encode(s.Raw, plan, exact), Is.EqualTo(plan.EstimatedSize));
        Assert.That(exact.WrittenCount, Is.EqualTo(plan.EstimatedSize));
    }
}
