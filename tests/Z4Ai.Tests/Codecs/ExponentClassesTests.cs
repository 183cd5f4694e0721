using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Internal;
using Z4Ai.Planes;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// The classed fields node (<see cref="RecipeKind.ClassedFields"/>): the top sign+mantissa plane coded one stream per
/// class of exponent values. A hand-built node pins the byte layout of docs/format.md 3.3; the planner, partition
/// and gather are checked on their own; hostile parameters raise <see cref="Z4AiFormatException"/>.
/// </summary>
public class ExponentClassesTests
{
    [Test]
    public void Decode_HandBuiltBf16Node_GivesTheDocumentedElements()
    {
        // Four BF16 elements with exponents 127, 128, 127, 130; class 0 = {127}, class 1 = {128, 130}.
        byte[] exponents = [127, 128, 127, 130];
        byte[] plane = [0x11, 0x22, 0x33, 0x45];
        byte[] node = BuildNode(DType.BF16, classCount: 2, e => e is 128 or 130 ? 1 : 0, [2, 2], exponents, [[0x11, 0x33], [0x22, 0x45]]);

        byte[] decoded = new byte[8];
        RecipeDecoder.Decode(node, decoded);

        // FloatFields layout: plane byte = mantissa << 1 | sign, so element = sign << 15 | exponent << 7 | mantissa.
        for (int i = 0; i < 4; i++)
        {
            int expected = ((plane[i] & 1) << 15) | (exponents[i] << 7) | (plane[i] >> 1);
            Assert.That(decoded[2 * i] | (decoded[(2 * i) + 1] << 8), Is.EqualTo(expected), $"element {i}");
        }
    }

    [Test]
    public void Decode_HandBuiltF32Node_TakesLowPlanesBeforeTheClasses()
    {
        // Two F32 elements: exponent stream, planes 0 and 1 whole, then plane 2 per class (one class empty: no child).
        byte[] exponents = [100, 100];
        byte[] node = BuildNode(DType.F32, classCount: 3, e => e == 100 ? 2 : 0, [0, 0, 2], exponents, [[], [], [0x81, 0x02]],
            lowPlanes: [[0x01, 0x02], [0x03, 0x04]]);
        byte[] decoded = new byte[8];
        RecipeDecoder.Decode(node, decoded);

        byte[] merged = new byte[8];
        FloatFields.Merge(DType.F32, exponents, [0x01, 0x02, 0x03, 0x04, 0x81, 0x02], merged);
        Assert.That(decoded, Is.EqualTo(merged));
    }

    [TestCase(1, TestName = "Decode_OneClass_ThrowsFormatException")]
    [TestCase(17, TestName = "Decode_SeventeenClasses_ThrowsFormatException")]
    public void Decode_ClassCountOutOfRange_ThrowsFormatException(int classCount)
    {
        byte[] node = BuildNode(DType.BF16, classCount, _ => 0, [.. new int[Math.Max(1, classCount) - 1], 2], [127, 127], [[0x10, 0x20]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(node, new byte[4]));
        Assert.That(ex!.Message, Does.Contain("exponent classes"));
    }

    [Test]
    public void Decode_MapEntryBeyondTheClassCount_ThrowsFormatException()
    {
        byte[] node = BuildNode(DType.BF16, 2, e => e == 127 ? 5 : 0, [2, 0], [127, 127], [[0x10, 0x20]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(node, new byte[4]));
        Assert.That(ex!.Message, Does.Contain("maps exponent 127 to class 5"));
    }

    [Test]
    public void Decode_LengthsNotAddingUp_ThrowsFormatException()
    {
        byte[] node = BuildNode(DType.BF16, 2, _ => 0, [2, 1], [127, 127], [[0x10, 0x20], [0x30]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(node, new byte[4]));
        Assert.That(ex!.Message, Does.Contain("add up to 3"));
    }

    [Test]
    public void Decode_LengthsDisagreeingWithTheExponents_ThrowsFormatException()
    {
        // The map puts both elements in class 0, the lengths claim one each.
        byte[] node = BuildNode(DType.BF16, 2, _ => 0, [1, 1], [127, 127], [[0x10], [0x20]]);
        var ex = Assert.Throws<Z4AiFormatException>(() => RecipeDecoder.Decode(node, new byte[4]));
        Assert.That(ex!.Message, Does.Contain("do not match its exponent stream"));
    }

    [Test]
    public void Inspect_ClassedFrame_ReportsEveryClassUnderTheTopPlane()
    {
        byte[] raw = CodecSamples.Bf16(OctaveTiltedWeights(16 * 1024, new Random(3)));
        byte[] frame = CodecSamples.Encode(raw, DType.BF16, CompressionEffort.Default);
        var streams = new List<StreamBreakdown>();
        string recipe = RecipeInspector.Inspect(frame, streams);
        Assert.That(recipe, Does.Contain("exponent classes)"));
        Assert.That(streams.Where(s => s.Path.EndsWith("sign+mantissa", StringComparison.Ordinal)).Sum(s => s.RawBytes), Is.EqualTo(16 * 1024));
        Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw));
    }

    [Test]
    public void PartitionThenGather_AnyMapAndStreams_RestoresThePlane()
    {
        Arbitrary<(byte[] Exponents, int Seed, int Classes)> cases =
            (from e in ArbMap.Default.GeneratorFor<byte[]>()
             from seed in Gen.Choose(0, int.MaxValue)
             from k in Gen.Choose(ExponentClasses.MinClasses, ExponentClasses.MaxClasses)
             select (e, seed, k)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var rng = new Random(c.Seed);
            DType dtype = rng.Next(2) == 0 ? DType.BF16 : DType.F16;
            ExponentClasses classes = MakeClasses(dtype, c.Classes, _ => rng.Next(c.Classes));
            byte[] plane = new byte[c.Exponents.Length];
            rng.NextBytes(plane);
            int[] lengths = new int[classes.Count];
            classes.CountClasses(c.Exponents, lengths);
            byte[] grouped = new byte[plane.Length];
            classes.Partition(c.Exponents, plane, lengths, grouped);
            byte[] back = new byte[plane.Length];
            classes.Gather(c.Exponents, grouped, lengths, back);
            return lengths.Sum() == plane.Length && back.AsSpan().SequenceEqual(plane);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void Plan_BellShapedBf16Weights_FindsClassesThatSave()
    {
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(256 * 1024, new Random(8)));
        (byte[] exponents, byte[] plane) = Split(DType.BF16, raw);
        ExponentClasses? classes = ExponentClasses.Plan(exponents, plane, DType.BF16, 1, 0, out long saved);
        Assert.That(classes, Is.Not.Null);
        Assert.That(classes!.Count, Is.InRange(ExponentClasses.MinClasses, ExponentClasses.MaxClasses));

        // A few hundredths of a bit per element on these weights (rows of different scales blur the tilt); far under
        // the two bits per element a broken cost would claim.
        Assert.That(saved, Is.InRange(256 * 1024 / 1000, 256 * 1024 / 4));

        // Asked for more than that (Default's 1% of the plane), the planner declines.
        Assert.That(ExponentClasses.Plan(exponents, plane, DType.BF16, 1, saved, out long none), Is.Null);
        Assert.That(none, Is.Zero);
    }

    [Test]
    public void Plan_PlaneIndependentOfExponent_FindsNothing()
    {
        var rng = new Random(4);
        byte[] exponents = Enumerable.Range(0, 64 * 1024).Select(_ => (byte)(120 + rng.Next(8))).ToArray();
        byte[] plane = new byte[exponents.Length];
        rng.NextBytes(plane);
        Assert.That(ExponentClasses.Plan(exponents, plane, DType.BF16, 1, 0, out long saved), Is.Null);
        Assert.That(saved, Is.Zero);
    }

    [Test]
    public void Plan_EveryExponentValuePresent_KeepsAtMostSixteenClasses()
    {
        // 256 exponent values, each with its own top bits: more would pay than the map can name.
        var rng = new Random(6);
        byte[] exponents = Enumerable.Range(0, 256 * 1024).Select(_ => (byte)rng.Next(256)).ToArray();
        byte[] plane = exponents.Select(e => (byte)((e * 37) ^ (rng.Next(2) * 0x80))).ToArray();
        ExponentClasses? classes = ExponentClasses.Plan(exponents, plane, DType.BF16, 1, 0, out _);
        Assert.That(classes, Is.Not.Null);
        Assert.That(classes!.Count, Is.EqualTo(ExponentClasses.MaxClasses));
        Assert.That(Enumerable.Range(0, 256).Select(classes.ClassOf).Max(), Is.LessThan(ExponentClasses.MaxClasses));
    }

    [Test]
    public void Encode_BellShapedWeightsAtMax_ChoosesClassesAndGivesTheGoldenFrame()
    {
        // The encoder's choice and bytes are fixed by integer costs only: the same frame on every machine.
        byte[] raw = CodecSamples.Bf16(CodecSamples.Weights(64 * 1024, new Random(21)));
        byte[] frame = CodecSamples.Encode(raw, DType.BF16, CompressionEffort.Max);
        byte[] plain = CodecSamples.Encode(raw, DType.BF16, CompressionEffort.Fast);
        TestContext.Out.WriteLine($"{raw.Length} -> {frame.Length} (fast {plain.Length}): {CodecSamples.Recipe(frame)}");
        Assert.That(CodecSamples.Recipe(frame), Does.Contain("exponent classes)"));
        Assert.That(frame.Length, Is.LessThan(plain.Length));
        Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw));
        Assert.That(Convert.ToHexString(SHA256.HashData(frame)), Is.EqualTo(GoldenMaxFrameSha256));
    }

    private const string GoldenMaxFrameSha256 = "3C2F420410BEA489F31941B8277A5542BB8AC19795E87BD18C0C96B7A026AF1B";

    /// <summary>
    /// Weights whose top three mantissa bits are fixed by their octave (a pattern no single table sees): what the
    /// classed fields node exists for.
    /// </summary>
    internal static float[] OctaveTiltedWeights(int count, Random rng)
    {
        float[] w = new float[count];
        for (int i = 0; i < count; i++)
        {
            int octave = Math.Clamp((int)Math.Round(1.5 * CodecSamples.Gaussian(rng)), -4, 4);
            int top = ((octave + 8) * 3) & 7;
            double mantissa = (top + rng.NextDouble()) / 8;
            w[i] = (float)((rng.Next(2) == 0 ? -1 : 1) * Math.ScaleB(1 + mantissa, octave - 6));
        }

        return w;
    }

    private static (byte[] Exponents, byte[] TopPlane) Split(DType dtype, byte[] raw)
    {
        int count = raw.Length / dtype.ElementSize();
        int planes = FloatFields.GetPlaneCount(dtype);
        byte[] exponents = new byte[count];
        byte[] signMantissa = new byte[planes * count];
        FloatFields.Split(dtype, raw, exponents, signMantissa);
        return (exponents, signMantissa[((planes - 1) * count)..]);
    }

    private static ExponentClasses MakeClasses(DType dtype, int classCount, Func<int, int> classOf)
    {
        byte[] node = [(byte)classCount, .. PackMap(dtype, classOf)];
        var reader = new SpanReader(node);
        return ExponentClasses.Read(ref reader, dtype);
    }

    private static byte[] PackMap(DType dtype, Func<int, int> classOf)
    {
        int size = 1 << ExponentClasses.ExponentBits(dtype);
        byte[] map = new byte[size / 2];
        for (int e = 0; e < size; e++)
        {
            map[e / 2] |= (byte)((classOf(e) & 15) << (4 * (e & 1)));
        }

        return map;
    }

    // A classed fields node with stored children, written from the layout in docs/format.md 3.3.
    private static byte[] BuildNode(DType dtype, int classCount, Func<int, int> classOf, int[] lengths, byte[] exponents, byte[][] classBytes, byte[][]? lowPlanes = null)
    {
        var node = new List<byte> { (byte)RecipeKind.ClassedFields, (byte)dtype, (byte)classCount };
        node.AddRange(PackMap(dtype, classOf));
        foreach (int length in lengths)
        {
            node.Add((byte)length); // lengths below 128: a one-byte varint
        }

        AddStoredChild(node, exponents);
        foreach (byte[] low in lowPlanes ?? [])
        {
            AddStoredChild(node, low);
        }

        foreach (byte[] bytes in classBytes)
        {
            AddStoredChild(node, bytes);
        }

        return [.. node];
    }

    private static void AddStoredChild(List<byte> node, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return;
        }

        node.Add((byte)(bytes.Length + 1));
        node.Add((byte)RecipeKind.Stored);
        node.AddRange(bytes);
    }
}

/// <summary>Weights whose top mantissa bits follow their octave: the top plane coded one stream per exponent class.</summary>
public sealed class ClassedFieldsRecipeTests : RecipeConformanceTests
{
    protected override string RecipeMarker => "exponent classes)";

    protected override DType[] DTypes => [DType.BF16, DType.F32];

    protected override byte[] Build(DType dtype, int elements, Random rng)
    {
        float[] values = ExponentClassesTests.OctaveTiltedWeights(elements, rng);
        return dtype == DType.BF16 ? CodecSamples.Bf16(values) : CodecSamples.F32(values);
    }
}
