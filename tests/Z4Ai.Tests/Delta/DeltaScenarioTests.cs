using System.Buffers;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Delta;

public class DeltaScenarioTests
{
    [Test]
    public void Compress_Bf16CheckpointWithOnePercentSmallSteps_IsTenTimesSmallerThanTargetAlone()
    {
        byte[] reference = DeltaTestData.GaussianBf16(1 << 20, 0.02f, seed: 1);
        byte[] current = DeltaTestData.StepBf16(reference, 0.01, seed: 2);

        var alone = new ArrayBufferWriter<byte>();
        TensorCodec.Encode(current, DType.BF16, CompressionEffort.Default, alone);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16);

        TestContext.Out.WriteLine($"raw {current.Length}, target alone {alone.WrittenCount}, delta {delta.Length}: {DeltaCodec.Inspect(delta)}");
        Assert.That(delta.Length * 10, Is.LessThanOrEqualTo(alone.WrittenCount));
        Assert.That(DeltaCodec.Decompress(delta, reference), Is.EqualTo(current));
    }
}
