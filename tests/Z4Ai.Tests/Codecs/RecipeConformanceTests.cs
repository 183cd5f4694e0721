using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// What every recipe must do, whatever it is: inputs made for it select it; any such input, at every effort, and
/// random corruptions of it round-trip exactly; frames never exceed raw + <see cref="TensorCodec.MaxHeaderLength"/>;
/// the same input gives the same bytes, however many threads code the chunks. Each recipe subclass only says which
/// dtypes it applies to and how to make an input for it.
/// </summary>
public abstract class RecipeConformanceTests
{
    private static readonly CompressionEffort[] Efforts = [CompressionEffort.Fast, CompressionEffort.Default, CompressionEffort.Max];

    /// <summary>A fragment of the recipe description that shows the recipe was chosen, e.g. <c>deadbits(</c>.</summary>
    protected abstract string RecipeMarker { get; }

    /// <summary>The dtypes the recipe applies to.</summary>
    protected abstract DType[] DTypes { get; }

    /// <summary>Builds an input of about <paramref name="elements"/> elements that the recipe exists for.</summary>
    protected abstract byte[] Build(DType dtype, int elements, Random rng);

    /// <summary>Elements in the input used to check selection (large enough that the structure pays).</summary>
    protected virtual int SelectionElements => 16 * 1024;

    /// <summary>The effort whose choice is checked (default effort unless a recipe is effort-specific).</summary>
    protected virtual CompressionEffort SelectionEffort => CompressionEffort.Default;

    /// <summary>Whether the recipe's own input must come out smaller (everything but stored noise).</summary>
    protected virtual bool Shrinks => true;

    [Test]
    public void Encode_StructuredInput_SelectsRecipe()
    {
        foreach (DType dtype in DTypes)
        {
            byte[] raw = Build(dtype, SelectionElements, new Random(17));
            byte[] frame = CodecSamples.Encode(raw, dtype, SelectionEffort);
            Assert.That(CodecSamples.Recipe(frame), Does.Contain(RecipeMarker), $"{dtype.GetName()}: {raw.Length} -> {frame.Length}");
            Assert.That(frame.Length, Shrinks ? Is.LessThan(raw.Length) : Is.LessThanOrEqualTo(raw.Length + TensorCodec.MaxHeaderLength), dtype.GetName());
            Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw), dtype.GetName());
        }
    }

    [Test]
    public void RoundTrip_StructuredInputsAtEveryEffort_RestoresBytesAndNeverExpands()
    {
        Arbitrary<(int DType, int Elements, int Seed, int Effort)> cases =
            (from d in Gen.Choose(0, DTypes.Length - 1)
             from n in Gen.Choose(0, 3000)
             from seed in Gen.Choose(0, int.MaxValue)
             from e in Gen.Choose(0, 2)
             select (d, n, seed, e)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            DType dtype = DTypes[c.DType];
            byte[] raw = Build(dtype, c.Elements, new Random(c.Seed));
            byte[] frame = CodecSamples.Encode(raw, dtype, Efforts[c.Effort]);
            return frame.Length <= raw.Length + TensorCodec.MaxHeaderLength
                && CodecSamples.Decode(frame, raw.Length).AsSpan().SequenceEqual(raw);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Test]
    public void RoundTrip_CorruptedStructuredInputs_RestoresBytes()
    {
        // Structure with exceptions: a few elements overwritten by random bytes (outliers, a NaN, a stray value),
        // which every transform must carry exactly or decline.
        Arbitrary<(int DType, int Elements, int Seed, int Hits)> cases =
            (from d in Gen.Choose(0, DTypes.Length - 1)
             from n in Gen.Choose(1, 2000)
             from seed in Gen.Choose(0, int.MaxValue)
             from hits in Gen.Choose(1, 6)
             select (d, n, seed, hits)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            DType dtype = DTypes[c.DType];
            var rng = new Random(c.Seed);
            byte[] raw = Build(dtype, c.Elements, rng);
            for (int h = 0; h < c.Hits && raw.Length > 0; h++)
            {
                raw[rng.Next(raw.Length)] = (byte)rng.Next(256);
            }

            byte[] frame = CodecSamples.Encode(raw, dtype, c.Seed % 2 == 0 ? CompressionEffort.Default : CompressionEffort.Fast);
            return frame.Length <= raw.Length + TensorCodec.MaxHeaderLength
                && CodecSamples.Decode(frame, raw.Length).AsSpan().SequenceEqual(raw);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Test]
    public void Encode_SameInput_GivesSameBytesWhateverTheParallelism()
    {
        foreach (DType dtype in DTypes)
        {
            byte[] raw = Build(dtype, 12 * 1024, new Random(5));
            byte[] first = CodecSamples.Encode(raw, dtype);
            Assert.That(CodecSamples.Encode(raw, dtype), Is.EqualTo(first), dtype.GetName());

            // Through the buffer API with small chunks, coded by one thread and by several.
            var sequential = new CodecOptions { ChunkSize = 4096, MaxDegreeOfParallelism = 1 };
            var parallel = new CodecOptions { ChunkSize = 4096, MaxDegreeOfParallelism = 4 };
            byte[] one = Z4AiCodec.Compress(raw, dtype, sequential);
            Assert.That(Z4AiCodec.Compress(raw, dtype, parallel), Is.EqualTo(one), dtype.GetName());
            Assert.That(Z4AiCodec.Decompress(one), Is.EqualTo(raw), dtype.GetName());
        }
    }
}

/// <summary>Dense BF16/F16/F32 weights: exponent stream plus sign+mantissa planes.</summary>
public sealed class FieldsRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "fields(";

    protected override DType[] DTypes => [DType.BF16, DType.F32];

    protected override byte[] Build(DType dtype, int elements, Random rng) =>
        dtype == DType.BF16 ? CodecSamples.Bf16(CodecSamples.Weights(elements, rng)) : CodecSamples.F32(CodecSamples.Weights(elements, rng));
}

/// <summary>Dense F16 weights: the high byte coded whole (sign, exponent and top mantissa bits together).</summary>
public sealed class PlanesRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "planes(2)";

    protected override DType[] DTypes => [DType.F16];

    protected override byte[] Build(DType dtype, int elements, Random rng) => CodecSamples.F16(CodecSamples.Weights(elements, rng));
}

/// <summary>F32 holding BF16 or F16 values, F64 holding F32 values.</summary>
public sealed class DeadBitsRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "deadbits(";

    protected override DType[] DTypes => [DType.F32, DType.F64, DType.C64];

    protected override byte[] Build(DType dtype, int elements, Random rng) => dtype switch
    {
        DType.F32 => CodecSamples.F32(CodecSamples.ThroughBf16(CodecSamples.Weights(elements, rng))),
        DType.F64 => CodecSamples.F64(CodecSamples.Weights(elements, rng)),
        _ => CodecSamples.F32(CodecSamples.ThroughHalf(CodecSamples.Weights(elements * 2, rng))),
    };
}

/// <summary>Few distinct values: INT8/INT4 codes dequantised with one scale per tensor.</summary>
public sealed class PaletteRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "palette(global";

    protected override DType[] DTypes => [DType.BF16, DType.F16, DType.F32];

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        float[] values = CodecSamples.Dequantise(CodecSamples.Weights(elements, rng), 127, perRow: false);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Math.Abs(values[i]) == 0 ? 0 : values[i]; // +0.0 only: the global palette alone
        }

        return dtype switch
        {
            DType.BF16 => CodecSamples.Bf16(values),
            DType.F16 => CodecSamples.F16(values),
            _ => CodecSamples.F32(values),
        };
    }
}

/// <summary>INT8/INT4 codes with one F32 scale per row dequantised into BF16/F16: affine groups with F32 scales.</summary>
public sealed class WideAffineRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "f32 scales";

    protected override DType[] DTypes => [DType.BF16, DType.F16];

    protected override byte[] Build(DType dtype, int elements, Random rng) =>
        Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(dtype, Math.Max(1, elements / 256), 256, rng.Next(2) == 0 ? 127 : 7, rng.Next());
}

/// <summary>Rows with lookup tables of their own: per-row codebooks whose indices are aligned on the zero entry.</summary>
public sealed class GroupShiftRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "shift(";

    protected override DType[] DTypes => [DType.BF16, DType.F32];

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        float[] values = CodecSamples.CodebookRows(elements, rng);
        return dtype == DType.BF16 ? CodecSamples.Bf16(values) : CodecSamples.F32(values);
    }
}

/// <summary>
/// INT4 codes with one scale per row: affine groups aligned on one zero index, and the indices coded with a table
/// per class of rows (rows differ in how far their codes spread).
/// </summary>
public sealed class RowClassRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "indices:rans-rows";

    protected override DType[] DTypes => [DType.BF16, DType.F32];

    protected override int SelectionElements => 64 * 1024;

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        float[] values = CodecSamples.Dequantise(CodecSamples.Weights(elements, rng), 7, perRow: true);
        return dtype == DType.BF16 ? CodecSamples.Bf16(values) : CodecSamples.F32(values);
    }
}

/// <summary>Fake-quantised weights that keep -0.0: the signs of zeros move out so the codes are exact products.</summary>
public sealed class NegativeZeroRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "negzero(";

    protected override DType[] DTypes => [DType.F32];

    protected override byte[] Build(DType dtype, int elements, Random rng) =>
        CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(elements, rng), 127, perRow: true));
}

/// <summary>Pruned weights (half zero) and sparse update streams.</summary>
public sealed class ZeroMaskRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "zeromask(";

    protected override DType[] DTypes => [DType.BF16, DType.F32, DType.I64];

    protected override byte[] Build(DType dtype, int elements, Random rng) => dtype switch
    {
        DType.BF16 => CodecSamples.Bf16(CodecSamples.Prune(CodecSamples.Weights(elements, rng), rng, 2)),
        DType.F32 => CodecSamples.F32(CodecSamples.Prune(CodecSamples.Weights(elements, rng), rng, 2)),
        _ => CodecSamples.Integers(Enumerable.Range(0, elements).Select(_ => rng.Next(50) == 0 ? rng.NextInt64() : 0L), 8),
    };
}

/// <summary>Integer tensors: position ids (an arithmetic progression) and narrow ranges.</summary>
public sealed class IntPackRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "intpack(";

    protected override DType[] DTypes => [DType.I64, DType.I32, DType.U16];

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        long start = rng.Next(1000);
        return CodecSamples.Integers(Enumerable.Range(0, elements).Select(i => start + i), dtype.ElementSize());
    }
}

/// <summary>Sorted indices with irregular gaps: zigzag deltas.</summary>
public sealed class DeltaRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "delta(";

    protected override DType[] DTypes => [DType.I32, DType.I64];

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        long value = rng.Next(1 << 20);
        var sorted = new long[elements];
        for (int i = 0; i < elements; i++)
        {
            // Mostly small gaps, now and then a long jump: frame-of-reference packing pays for the jumps everywhere.
            value += rng.Next(40) == 0 ? rng.Next(1 << 20) : rng.Next(1, 9);
            sorted[i] = value;
        }

        return CodecSamples.Integers(sorted, dtype.ElementSize());
    }
}

/// <summary>Masks and flags: eight elements per byte.</summary>
public sealed class BoolPackRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "boolpack[";

    protected override DType[] DTypes => [DType.BOOL, DType.U8];

    protected override byte[] Build(DType dtype, int elements, Random rng) =>
        Enumerable.Range(0, elements).Select(_ => (byte)(rng.Next(5) == 0 ? 1 : 0)).ToArray();
}

/// <summary>Byte symbols with a skewed distribution: an entropy-coded leaf.</summary>
public sealed class EntropyLeafRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "rans-o";

    protected override DType[] DTypes => [DType.U8, DType.I8];

    protected override byte[] Build(DType dtype, int elements, Random rng) => CodecSamples.U8Codes(elements, rng);
}

/// <summary>Small streams at maximum effort: context mixing.</summary>
public sealed class ContextMixingRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "cm";

    protected override DType[] DTypes => [DType.BF16];

    protected override CompressionEffort SelectionEffort => CompressionEffort.Max;

    protected override int SelectionElements => 8 * 1024;

    protected override byte[] Build(DType dtype, int elements, Random rng) => CodecSamples.Bf16(CodecSamples.Weights(elements, rng));
}

/// <summary>Repeats no split exposes (a tiled table): zstd over the raw bytes.</summary>
public sealed class ZstdLeafRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "zstd";

    protected override DType[] DTypes => [DType.F32, DType.BF16];

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        byte[] tile = dtype == DType.F32 ? CodecSamples.F32(CodecSamples.Weights(97, rng)) : CodecSamples.Bf16(CodecSamples.Weights(97, rng));
        byte[] raw = new byte[elements * dtype.ElementSize()];
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = tile[i % tile.Length];
        }

        return raw;
    }
}

/// <summary>Noise: nothing pays, the bytes are stored.</summary>
public sealed class StoredRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "stored";

    protected override DType[] DTypes => [DType.U8, DType.F32];

    protected override bool Shrinks => false;

    protected override byte[] Build(DType dtype, int elements, Random rng) => CodecSamples.Noise(elements * dtype.ElementSize(), rng);
}
