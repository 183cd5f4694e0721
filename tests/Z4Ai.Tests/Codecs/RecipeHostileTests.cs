using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// Mutated frames of every recipe: bit flips, truncations, extensions and rewritten length fields. Decoding may
/// succeed with other bytes (the SHA-256 above this layer catches that) but the only exception allowed out is
/// <see cref="Z4AiFormatException"/>, nothing hangs, and nothing allocates beyond what the declared sizes allow.
/// </summary>
public class RecipeHostileTests
{
    private static readonly Lazy<(string Name, byte[] Raw, byte[] Frame)[]> s_frames = new(BuildFrames);

    /// <summary>One valid frame per recipe (and per leaf coder), small enough to mutate thousands of times.</summary>
    private static (string Name, byte[] Raw, byte[] Frame)[] BuildFrames()
    {
        var rng = new Random(11);
        (string, DType, byte[], CompressionEffort)[] inputs =
        [
            ("fields-bf16", DType.BF16, CodecSamples.Bf16(CodecSamples.Weights(1500, rng)), CompressionEffort.Fast),
            ("fields-cm", DType.BF16, CodecSamples.Bf16(CodecSamples.Weights(700, rng)), CompressionEffort.Max),
            ("fields-f32", DType.F32, CodecSamples.F32(CodecSamples.Weights(900, rng)), CompressionEffort.Fast),
            ("planes-f16", DType.F16, CodecSamples.F16(CodecSamples.Weights(1500, rng)), CompressionEffort.Fast),
            ("deadbits", DType.F32, CodecSamples.F32(CodecSamples.ThroughBf16(CodecSamples.Weights(800, rng))), CompressionEffort.Fast),
            ("palette", DType.F32, CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(1200, rng), 7, false).Select(Math.Abs).ToArray()), CompressionEffort.Fast),
            ("negzero", DType.F32, CodecSamples.F32(CodecSamples.Dequantise(CodecSamples.Weights(2048, rng), 7, true)), CompressionEffort.Fast),
            ("palette-wide", DType.BF16, Z4Ai.Tests.Transforms.PaletteTests.CodesThroughF32(DType.BF16, 8, 256, 7, 3), CompressionEffort.Fast),
            ("shift", DType.BF16, CodecSamples.Bf16(OctaveApartRows(CodecSamples.Weights(512, rng))), CompressionEffort.Fast),
            ("rans-rows", DType.F32, CodecSamples.F32(NonZeroCodeRows(48, 256, rng)), CompressionEffort.Default),
            ("zeromask", DType.BF16, CodecSamples.Bf16(CodecSamples.Prune(CodecSamples.Weights(1500, rng), rng, 2)), CompressionEffort.Fast),
            ("sparse", DType.BF16, CodecSamples.SparseXorBf16(3000, rng, 100), CompressionEffort.Fast),
            ("intpack", DType.I64, CodecSamples.Integers(Enumerable.Range(0, 300).Select(i => 7L * i), 8), CompressionEffort.Fast),
            ("delta", DType.I32, CodecSamples.Integers(Enumerable.Range(0, 400).Select(i => (long)(i * i) / 3), 4), CompressionEffort.Fast),
            ("boolpack", DType.BOOL, Enumerable.Range(0, 2000).Select(i => (byte)(rng.Next(9) == 0 ? 1 : 0)).ToArray(), CompressionEffort.Fast),
            ("rans-o1", DType.F8_E5M2, Enumerable.Range(0, 6000).Select(i => (byte)((i % 2 == 0 ? 10 : 200) + rng.Next(4))).ToArray(), CompressionEffort.Default),
            ("classed-fields", DType.BF16, CodecSamples.Bf16(ExponentClassesTests.OctaveTiltedWeights(4096, rng)), CompressionEffort.Default),
            ("classed-fields-f32", DType.F32, CodecSamples.F32(ExponentClassesTests.OctaveTiltedWeights(4096, rng)), CompressionEffort.Default),
            ("zstd", DType.F32, CodecSamples.F32(Enumerable.Range(0, 1000).Select(i => (float)(i % 13)).ToArray()), CompressionEffort.Fast),
        ];

        return inputs.Select(i => (i.Item1, i.Item3, CodecSamples.Encode(i.Item3, i.Item2, i.Item4, 256))).ToArray();
    }

    // Two rows of 256 weights four octaves apart: the exponent stream gets a shift per row.
    private static float[] OctaveApartRows(float[] w)
    {
        for (int i = 256; i < w.Length; i++)
        {
            w[i] *= 16;
        }

        return w;
    }

    // Non-zero INT4 codes times one scale per row: per-row affine groups aligned on one zero index, whose rows
    // differ in spread (row classes).
    private static float[] NonZeroCodeRows(int rows, int columns, Random rng)
    {
        float[] values = new float[rows * columns];
        for (int r = 0; r < rows; r++)
        {
            float scale = 0.01f * (1 + (0.37f * r));
            double spread = r % 2 == 0 ? 1.2 : 3.5;
            for (int c = 0; c < columns; c++)
            {
                int code = Math.Clamp((int)Math.Round(spread * CodecSamples.Gaussian(rng)), -7, 7);
                values[(r * columns) + c] = (code == 0 ? 1 : code) * scale;
            }
        }

        return values;
    }

    private static IEnumerable<TestCaseData> Frames() =>
        Enumerable.Range(0, s_frames.Value.Length).Select(i => new TestCaseData(i).SetArgDisplayNames(s_frames.Value[i].Name));

    [Test]
    public void Frames_CoverEveryNodeKind()
    {
        string all = string.Join(" ", s_frames.Value.Select(f => CodecSamples.Recipe(f.Frame)));
        foreach (string marker in new[] { "fields(", "exponent classes)", "planes(", "deadbits(", "palette(", "negzero(", "shift(", "zeromask(", "intpack(", "delta(", "boolpack[", "rans-o0", "rans-o1", "rans-rows", "cm", "zstd", "stored" })
        {
            Assert.That(all, Does.Contain(marker));
        }
    }

    [TestCaseSource(nameof(Frames))]
    public void Decode_EveryTruncationAndExtension_ThrowsOnlyFormatExceptions(int index)
    {
        (_, byte[] raw, byte[] frame) = s_frames.Value[index];
        for (int length = 0; length < frame.Length; length++)
        {
            AssertOnlyFormatErrors(frame.AsSpan(0, length).ToArray(), raw.Length);
        }

        AssertOnlyFormatErrors([.. frame, 0], raw.Length);
        AssertOnlyFormatErrors([.. frame, .. frame], raw.Length);
    }

    [TestCaseSource(nameof(Frames))]
    public void Decode_BitFlips_ThrowOnlyFormatExceptions(int index)
    {
        (_, byte[] raw, byte[] frame) = s_frames.Value[index];
        Arbitrary<(int Seed, int Flips, bool Head)> cases =
            (from seed in Gen.Choose(0, int.MaxValue)
             from flips in Gen.Choose(1, 4)
             from head in Gen.Elements(true, false)
             select (seed, flips, head)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var rng = new Random(c.Seed);
            byte[] mutated = frame.ToArray();
            for (int f = 0; f < c.Flips; f++)
            {
                // Flips near the front hit the node headers and parameter blocks, the most sensitive parts.
                int at = c.Head ? rng.Next(Math.Min(mutated.Length, 64)) : rng.Next(mutated.Length);
                mutated[at] ^= (byte)(1 << rng.Next(8));
            }

            AssertOnlyFormatErrors(mutated, raw.Length);
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [TestCaseSource(nameof(Frames))]
    public void Decode_RewrittenBytes_ThrowOnlyFormatExceptions(int index)
    {
        // Whole bytes replaced by values that make lengths, counts and kinds extreme: 0x00, 0x7F, 0x80, 0xFF, ...
        (_, byte[] raw, byte[] frame) = s_frames.Value[index];
        byte[] extremes = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFE, 0xFF];
        int limit = Math.Min(frame.Length, 96);
        for (int at = 0; at < limit; at++)
        {
            foreach (byte value in extremes)
            {
                byte[] mutated = frame.ToArray();
                mutated[at] = value;
                AssertOnlyFormatErrors(mutated, raw.Length);
            }
        }
    }

    [Test]
    public void Decode_RandomGarbageAfterRecipeId_ThrowsOnlyFormatExceptions()
    {
        Arbitrary<byte[]> garbage = ArbMap.Default.GeneratorFor<byte>().ArrayOf().ToArbitrary();
        Prop.ForAll(garbage, Gen.Choose(0, 5000).ToArbitrary(), (body, rawLength) =>
        {
            var writer = new ArrayBufferWriter<byte>();
            writer.Write<byte>([(byte)CodecId.Recipe]);
            VarInt.Write(writer, (ulong)rawLength);
            writer.Write(body);
            AssertOnlyFormatErrors(writer.WrittenSpan.ToArray(), rawLength);
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    [Test]
    public void Decode_NestingPastTheLimit_ThrowsFormatException()
    {
        // Delta of delta of delta ... : each node is valid on its own, the depth is not.
        byte[] node = [(byte)RecipeKind.Stored, .. new byte[8]];
        for (int level = 0; level <= RecipeDecoder.MaxDepth + 1; level++)
        {
            var writer = new ArrayBufferWriter<byte>();
            writer.Write<byte>([(byte)RecipeKind.Delta, 1]);
            VarInt.Write(writer, (ulong)node.Length);
            writer.Write(node);
            node = writer.WrittenSpan.ToArray();
        }

        var ex = Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(node, new byte[8]));
        Assert.That(ex!.Message, Does.Contain("deeper"));
    }

    [Test]
    public void Decode_HostileDeclaredSizes_AllocateOnlyWhatTheDestinationAllows()
    {
        // Parameter blocks that declare far more than 64 bytes can hold: a zero mask with 2^31 - 1 non-zero
        // elements, a palette with 2^31 - 1 entries, a frame that claims a gigabyte. Each must fail on its lengths
        // before allocating for them.
        byte[][] hostile =
        [
            [(byte)RecipeKind.ZeroMask, (byte)DType.F32, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
            [(byte)RecipeKind.Palette, (byte)DType.F32, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
            [(byte)RecipeKind.Palette, (byte)DType.F32, 1, 8, 16, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
            [(byte)RecipeKind.NegativeZero, (byte)DType.F32, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
            [(byte)RecipeKind.GroupShift, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
            [(byte)RecipeKind.Entropy, 3, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
        ];

        byte[] destination = new byte[64];
        foreach (byte[] node in hostile)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(node, destination), Convert.ToHexString(node));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.That(allocated, Is.LessThan(64 * 1024), Convert.ToHexString(node));
        }

        // A frame header that declares 1 GiB of raw bytes is checked against the destination before anything else.
        var frame = new ArrayBufferWriter<byte>();
        frame.Write<byte>([(byte)CodecId.Recipe]);
        VarInt.Write(frame, 1UL << 30);
        frame.Write<byte>([(byte)RecipeKind.Stored]);
        Assert.Throws<Z4AiFormatException>(() => TensorCodec.Decode(frame.WrittenSpan, destination));
    }

    /// <summary>
    /// Decodes on a worker and lets only <see cref="Z4AiFormatException"/> out (a wrong but well-formed result is
    /// fine); a decode that has not finished after 10 seconds counts as a hang.
    /// </summary>
    internal static void AssertOnlyFormatErrors(byte[] frame, int rawLength)
    {
        byte[] destination = new byte[rawLength];
        var decode = Task.Run(() => TensorCodec.Decode(frame, destination));
        string shown = Convert.ToHexString(frame.AsSpan(0, Math.Min(frame.Length, 64)));
        try
        {
            if (!decode.Wait(TimeSpan.FromSeconds(10)))
            {
                Assert.Fail($"decoding did not finish within 10 s for frame {shown}");
            }
        }
        catch (AggregateException ex) when (ex.InnerException is Z4AiFormatException)
        {
        }
        catch (AggregateException ex)
        {
            Assert.Fail($"{ex.InnerException?.GetType().Name} escaped for frame {shown}: {ex.InnerException}");
        }
    }
}
