using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

/// <summary>A tensor (or chunk) for transform tests; printed compactly when a property fails.</summary>
public sealed record TensorSample(DType DType, byte[] Raw, long[] Shape, string Kind)
{
    public override string ToString() =>
        $"{DType.GetName()} [{string.Join(",", Shape)}] {Kind} {Raw.Length} bytes: {Convert.ToHexString(Raw.AsSpan(0, Math.Min(Raw.Length, 48)))}";
}

/// <summary>Structured random tensors: small alphabets, dead low bits, zeros, progressions, 0/1 bytes, dequantised
/// codes, half-origin floats, and plain noise, always seasoned with the dtype's extreme bit patterns.</summary>
internal static class TransformSamples
{
    public static readonly DType[] WholeByteDTypes =
        Enum.GetValues<DType>().Where(d => d.ElementSize() != 0).ToArray();

    public const int KindCount = 9;

    public static Arbitrary<TensorSample> Structured(int maxCount = 300) =>
        (from dtype in Gen.Elements(WholeByteDTypes)
         from count in Gen.Choose(0, maxCount)
         from kind in Gen.Choose(0, KindCount - 1)
         from seed in Gen.Choose(0, int.MaxValue)
         select Build(dtype, count, kind, seed)).ToArbitrary();

    /// <summary>The dtype's notable bit patterns: zeros, ±1, infinities, NaNs with payloads, subnormal and normal
    /// limits for IEEE-style floats; 0, 1, -1 and the limits for the rest.</summary>
    public static ulong[] Specials(DType dtype)
    {
        int size = dtype.ElementSize();
        int bits = size * 8;
        if (dtype == DType.C64)
        {
            return Specials(DType.F32).SelectMany(re => new[] { re, re << 32, re | (re << 32) }).Distinct().ToArray();
        }

        if (FloatFormat.Of(dtype) is { } f)
        {
            int m = f.MantissaBits;
            ulong sign = 1UL << (bits - 1);
            ulong inf = (ulong)f.MaxBiasedExponent << m;
            ulong[] positive =
            [
                0, 1, Elements.LowMask(m), 1UL << m, ((ulong)(f.MaxBiasedExponent - 1) << m) | Elements.LowMask(m),
                (ulong)f.Bias << m, inf, inf | (1UL << (m - 1)) | 1, inf | 1, inf | Elements.LowMask(m),
            ];
            return positive.Concat(positive.Select(v => v | sign)).ToArray();
        }

        ulong all = Elements.LowMask(bits);
        return [0, 1, all, all >> 1, (all >> 1) + 1, 2, 0x80, 0x7F];
    }

    public static TensorSample Build(DType dtype, int count, int kind, int seed)
    {
        var random = new Random(seed);
        int size = dtype.ElementSize();
        int bits = size * 8;
        ulong mask = Elements.LowMask(bits);
        ulong[] specials = Specials(dtype);
        var raw = new byte[count * size];
        long[] shape = [count];
        if (count > 0 && count % 8 == 0 && random.Next(2) == 0)
        {
            int cols = count % 32 == 0 ? 32 : 8;
            shape = [count / cols, cols];
        }

        ulong Noise() => (ulong)random.NextInt64() ^ ((ulong)random.Next() << 33);
        ulong Any() => random.Next(4) == 0 ? specials[random.Next(specials.Length)] : Noise() & mask;

        string name;
        switch (kind)
        {
            case 0:
                name = "noise";
                for (int i = 0; i < count; i++)
                {
                    Put(raw, size, i, Any());
                }

                break;
            case 1:
            {
                ulong[] pool = Enumerable.Range(0, random.Next(1, 20)).Select(_ => Any()).ToArray();
                name = $"pool{pool.Length}";
                for (int i = 0; i < count; i++)
                {
                    Put(raw, size, i, pool[random.Next(pool.Length)]);
                }

                break;
            }

            case 2:
            {
                int dead = random.Next(1, bits + 1);
                name = $"dead{dead}";
                ulong keep = mask & ~Elements.LowMask(dead);
                if (dtype == DType.C64)
                {
                    keep &= ~(Elements.LowMask(Math.Min(dead, 32)) << 32);
                }

                for (int i = 0; i < count; i++)
                {
                    Put(raw, size, i, Any() & keep);
                }

                break;
            }

            case 3:
            {
                double zeroShare = random.Next(2) == 0 ? 0.5 : 0.97;
                name = $"zeros{zeroShare}";
                for (int i = 0; i < count; i++)
                {
                    Put(raw, size, i, random.NextDouble() < zeroShare ? 0 : Any());
                }

                break;
            }

            case 4:
            {
                ulong start = Any();
                ulong step = (ulong)random.Next(-3, 4);
                bool noisy = random.Next(2) == 0;
                name = $"progression{(long)step}{(noisy ? "~" : string.Empty)}";
                for (int i = 0; i < count; i++)
                {
                    ulong v = start + ((ulong)i * step) + (noisy ? (ulong)random.Next(0, 3) : 0);
                    Put(raw, size, i, v & mask);
                }

                break;
            }

            case 5:
                name = "bool";
                for (int i = 0; i < count; i++)
                {
                    Put(raw, size, i, (ulong)random.Next(2));
                }

                break;
            case 6:
                name = "half-origin";
                for (int i = 0; i < count; i++)
                {
                    Put(raw, size, i, HalfOrigin(dtype, random) & mask);
                }

                break;
            case 7:
            {
                int groupLength = shape.Length == 2 ? (int)shape[1] : 32;
                int levels = random.Next(2) == 0 ? 16 : 256;
                name = $"dequant{levels}/{groupLength}";
                FloatFormat? format = FloatFormat.Of(dtype);
                ulong scale = 0;
                for (int i = 0; i < count; i++)
                {
                    if (i % groupLength == 0)
                    {
                        scale = Noise() & mask;
                    }

                    long code = random.Next(-levels / 2, levels / 2);
                    ulong v = format is { } f && dtype != DType.C64 && FloatBits.TryMultiply(code, scale, f, out ulong p) ? p : (ulong)code;
                    Put(raw, size, i, v & mask);
                }

                break;
            }

            default:
            {
                name = "runs";
                ulong current = Any();
                for (int i = 0; i < count; i++)
                {
                    if (random.Next(8) == 0)
                    {
                        current = Any();
                    }

                    Put(raw, size, i, current);
                }

                break;
            }
        }

        return new TensorSample(dtype, raw, shape, name);
    }

    private static ulong HalfOrigin(DType dtype, Random random)
    {
        ushort h = (ushort)random.Next(65536);
        ulong f32 = FloatBits.Widen(h, FloatFormat.F16, FloatFormat.F32);
        return dtype switch
        {
            DType.F32 => f32,
            DType.C64 => f32 | (FloatBits.Widen((ushort)random.Next(65536), FloatFormat.F16, FloatFormat.F32) << 32),
            DType.F64 => FloatBits.Widen((uint)random.NextInt64(), FloatFormat.F32, FloatFormat.F64),
            _ => h,
        };
    }

    public static void Put(byte[] raw, int size, int index, ulong value) => Elements.Write(raw.AsSpan(index * size), size, value);
}

/// <summary>Checks every transform that plans on a sample: exact size, never expanding, bit-exact round trip, and
/// the split-stream API agreeing with the one-buffer frame.</summary>
internal static class TransformAssert
{
    public static string[] RoundTripAll(TensorSample s)
    {
        var planned = new List<string>();
        DType dtype = s.DType;
        byte[] raw = s.Raw;

        if (DeadBits.TryPlan(raw, dtype, out DeadBitsPlan dead))
        {
            Check(s, "dead", dead.EstimatedSize, w => DeadBits.Encode(raw, dead, w), (e, d) => DeadBits.Decode(e, dtype, d));
            var narrow = new byte[dead.NarrowLength];
            DeadBits.Forward(raw, dead, narrow);
            var back = new byte[raw.Length];
            DeadBits.Inverse(narrow, dead, back);
            Assert.That(back, Is.EqualTo(raw), $"dead inverse {s}");
            planned.Add("dead");
        }

        if (DeadBits.TryPlan(raw, dtype, out DeadBitsPlan tight, allowBitPacked: true))
        {
            Check(s, "dead-tight", tight.EstimatedSize, w => DeadBits.Encode(raw, tight, w), (e, d) => DeadBits.Decode(e, dtype, d));
            planned.Add("dead-tight");
        }

        foreach (bool aligned in new[] { false, true })
        {
            if (Palette.TryPlan(raw, dtype, s.Shape, out PalettePlan? palette, aligned))
            {
                Check(s, "palette", palette.EstimatedSize, w => Palette.Encode(raw, palette, w), (e, d) => Palette.Decode(e, dtype, d));
                var indices = new byte[palette.Parameters.IndicesLength];
                Palette.ForwardIndices(raw, palette, indices);
                var back = new byte[raw.Length];
                Palette.Inverse(palette.Parameters, palette.GroupTable, palette.Codebook, indices, back);
                Assert.That(back, Is.EqualTo(raw), $"palette inverse {s}");
                if (aligned)
                {
                    Assert.That(palette.Parameters.IndexBits, Is.AnyOf(0, 8, 16));
                }

                planned.Add(palette.Parameters.Layout == PaletteLayout.Global ? "palette" : "palette-grouped");
            }
        }

        if (ZeroMask.TryPlan(raw, dtype, out ZeroMaskPlan zero))
        {
            Check(s, "zero", zero.EstimatedSize, w => ZeroMask.Encode(raw, zero, w), (e, d) => ZeroMask.Decode(e, dtype, d));
            var positions = new byte[zero.PositionsLength];
            var values = new byte[zero.ValuesLength];
            ZeroMask.Forward(raw, zero, positions, values);
            var back = new byte[raw.Length];
            ZeroMask.Inverse(positions, values, zero, back);
            Assert.That(back, Is.EqualTo(raw), $"zero inverse {s}");
            planned.Add("zero-" + zero.Layout);
        }

        if (IntPack.TryPlan(raw, dtype, out IntPackPlan ints))
        {
            Check(s, "int", ints.EstimatedSize, w => IntPack.Encode(raw, ints, w), (e, d) => IntPack.Decode(e, dtype, d));
            planned.Add("int-" + ints.Mode);
        }

        if (BoolPack.TryPlan(raw, dtype, out BoolPackPlan bools))
        {
            Check(s, "bool", bools.EstimatedSize, w => BoolPack.Encode(raw, bools, w), (e, d) => BoolPack.Decode(e, dtype, d));
            planned.Add("bool");
        }

        return [.. planned];
    }

    public delegate void Decoder(ReadOnlySpan<byte> encoded, Span<byte> destination);

    private static void Check(TensorSample s, string name, int estimated, Func<IBufferWriter<byte>, int> encode, Decoder decode)
    {
        var writer = new ArrayBufferWriter<byte>();
        int written = encode(writer);
        Assert.That(written, Is.EqualTo(writer.WrittenCount), $"{name} return value {s}");
        Assert.That(writer.WrittenCount, Is.EqualTo(estimated), $"{name} estimate {s}");
        Assert.That(writer.WrittenCount, Is.LessThan(s.Raw.Length), $"{name} expands {s}");
        var back = new byte[s.Raw.Length];
        decode(writer.WrittenSpan, back);
        Assert.That(back, Is.EqualTo(s.Raw), $"{name} round trip {s}");
    }

    /// <summary>The frames of every transform that plans on the sample, for mutation tests.</summary>
    public static List<(string Name, byte[] Frame, Decoder Decode)> Frames(TensorSample s)
    {
        var frames = new List<(string, byte[], Decoder)>();
        DType dtype = s.DType;
        byte[] raw = s.Raw;
        var w = new ArrayBufferWriter<byte>();
        if (DeadBits.TryPlan(raw, dtype, out DeadBitsPlan dead, allowBitPacked: true))
        {
            DeadBits.Encode(raw, dead, w);
            frames.Add(("dead", w.WrittenSpan.ToArray(), (e, d) => DeadBits.Decode(e, dtype, d)));
            w.Clear();
        }

        if (Palette.TryPlan(raw, dtype, s.Shape, out PalettePlan? palette))
        {
            Palette.Encode(raw, palette, w);
            frames.Add(("palette", w.WrittenSpan.ToArray(), (e, d) => Palette.Decode(e, dtype, d)));
            w.Clear();
        }

        if (ZeroMask.TryPlan(raw, dtype, out ZeroMaskPlan zero))
        {
            ZeroMask.Encode(raw, zero, w);
            frames.Add(("zero", w.WrittenSpan.ToArray(), (e, d) => ZeroMask.Decode(e, dtype, d)));
            w.Clear();
        }

        if (IntPack.TryPlan(raw, dtype, out IntPackPlan ints))
        {
            IntPack.Encode(raw, ints, w);
            frames.Add(("int", w.WrittenSpan.ToArray(), (e, d) => IntPack.Decode(e, dtype, d)));
            w.Clear();
        }

        if (BoolPack.TryPlan(raw, dtype, out BoolPackPlan bools))
        {
            BoolPack.Encode(raw, bools, w);
            frames.Add(("bool", w.WrittenSpan.ToArray(), (e, d) => BoolPack.Decode(e, dtype, d)));
            w.Clear();
        }

        return frames;
    }
}
