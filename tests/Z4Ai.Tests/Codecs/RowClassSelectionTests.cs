using NUnit.Framework;

namespace Z4Ai.Tests.Codecs;

/// <summary>
/// When the encoder gives palette indices row classes: on INT4 codes whose rows spread differently (one scale per
/// row, so each row's maximum sets how wide its codes spread; or one scale per tensor over rows of different
/// magnitude), and not on codes whose rows are all drawn from one distribution, where classes cannot pay.
/// </summary>
public class RowClassSelectionTests
{
    private const int Rows = 96;

    [TestCase(DType.BF16, true)]
    [TestCase(DType.F32, true)]
    [TestCase(DType.BF16, false)]
    [TestCase(DType.F32, false)]
    public void Encode_Int4CodesOfRowsThatDiffer_ChoosesRowClasses(DType dtype, bool perRowScale)
    {
        float[] values = CodecSamples.Dequantise(CodecSamples.Weights(Rows * CodecSamples.Columns, new Random(31)), 7, perRowScale);
        byte[] raw = dtype == DType.BF16 ? CodecSamples.Bf16(values) : CodecSamples.F32(values);
        byte[] frame = CodecSamples.Encode(raw, dtype);
        Assert.That(CodecSamples.Recipe(frame), Does.Contain("indices:rans-rows"));
        Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw));

        // Fast keeps one table per stream: the classes must have made the frame smaller.
        Assert.That(frame.Length, Is.LessThan(CodecSamples.Encode(raw, dtype, CompressionEffort.Fast).Length));
    }

    [TestCase(DType.BF16)]
    [TestCase(DType.F32)]
    public void Encode_Int4CodesOfIdenticallyDistributedRows_KeepsOneTable(DType dtype)
    {
        // One scale for the tensor and one spread for every row: the rows differ only by sampling noise.
        var random = new Random(32);
        float[] values = new float[Rows * CodecSamples.Columns];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Math.Clamp(MathF.Round((float)(2.2 * CodecSamples.Gaussian(random))), -7, 7) * 0.0123f;
        }

        byte[] raw = dtype == DType.BF16 ? CodecSamples.Bf16(values) : CodecSamples.F32(values);
        byte[] frame = CodecSamples.Encode(raw, dtype);
        string recipe = CodecSamples.Recipe(frame);
        Assert.That(recipe, Does.Contain("palette(global"));
        Assert.That(recipe, Does.Not.Contain("rans-rows"));
        Assert.That(CodecSamples.Decode(frame, raw.Length), Is.EqualTo(raw));
    }

    [Test]
    public void Encode_Int4CodesWithOneScalePerRow_AlignsTheAffineGroupsWithoutAShift()
    {
        // Each row's smallest code (-7 or -6) moved its zero index; aligned by c0, one descriptor repeats and no
        // per-row offsets are written.
        float[] values = CodecSamples.Dequantise(CodecSamples.Weights(Rows * CodecSamples.Columns, new Random(33)), 7, perRow: true);
        byte[] raw = CodecSamples.F32(values);
        string recipe = CodecSamples.Recipe(CodecSamples.Encode(raw, DType.F32, CompressionEffort.Fast));
        Assert.That(recipe, Does.Contain("palette(groups of 256"));
        Assert.That(recipe, Does.Not.Contain("shift("));
    }
}
