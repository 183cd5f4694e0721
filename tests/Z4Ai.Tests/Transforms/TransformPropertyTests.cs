using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

public class TransformPropertyTests
{
    [Test]
    public void AllTransforms_StructuredSamples_RoundTripExactlyAndNeverExpand() =>
        Prop.ForAll(TransformSamples.Structured(), s =>
        {
            TransformAssert.RoundTripAll(s);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(300));

    [Test]
    public void AllTransforms_SweepOfDTypesAndKinds_EachFormIsExercisedAndExact()
    {
        var seen = new Dictionary<string, int>();
        int seed = 0;
        foreach (DType dtype in TransformSamples.WholeByteDTypes)
        {
            for (int kind = 0; kind < TransformSamples.KindCount; kind++)
            {
                foreach (int count in new[] { 1, 2, 7, 64, 257, 2048 })
                {
                    TensorSample s = TransformSamples.Build(dtype, count, kind, seed++);
                    foreach (string name in TransformAssert.RoundTripAll(s))
                    {
                        seen[name] = seen.GetValueOrDefault(name) + 1;
                    }
                }
            }
        }

        string[] expected =
        [
            "dead", "dead-tight", "palette", "palette-grouped", "zero-Bitmap", "zero-Sparse", "int-FrameOfReference", "int-Delta", "bool",
        ];
        foreach (string name in expected)
        {
            Assert.That(seen.GetValueOrDefault(name), Is.GreaterThan(2), $"{name} planned {seen.GetValueOrDefault(name)} times; seen: {string.Join(", ", seen)}");
        }
    }

    [Test]
    public void TryPlan_UniformRandomBytes_NoTransformApplies()
    {
        var random = new Random(99);
        foreach (DType dtype in new[] { DType.F32, DType.BF16, DType.F16, DType.F64, DType.I32, DType.U8, DType.I64 })
        {
            var raw = new byte[4096];
            random.NextBytes(raw);
            var sample = new TensorSample(dtype, raw, [raw.Length / dtype.ElementSize()], "uniform");
            Assert.That(TransformAssert.RoundTripAll(sample), Is.Empty, dtype.GetName());
        }
    }

    [Test]
    public void TryPlan_EmptyOrMisfitInput_ReturnsFalse()
    {
        foreach (DType dtype in TransformSamples.WholeByteDTypes)
        {
            Assert.That(DeadBits.TryPlan([], dtype, out _), Is.False);
            Assert.That(Palette.TryPlan([], dtype, [], out _), Is.False);
            Assert.That(ZeroMask.TryPlan([], dtype, out _), Is.False);
            Assert.That(IntPack.TryPlan([], dtype, out _), Is.False);
            Assert.That(BoolPack.TryPlan([], dtype, out _), Is.False);
        }

        // An element-size misfit (a chunk cut inside an element) is never planned.
        var misfit = new byte[4099];
        Assert.That(DeadBits.TryPlan(misfit, DType.F32, out _), Is.False);
        Assert.That(Palette.TryPlan(misfit, DType.F32, [], out _), Is.False);
        Assert.That(ZeroMask.TryPlan(misfit, DType.F32, out _), Is.False);
        Assert.That(IntPack.TryPlan(misfit, DType.I32, out _), Is.False);

        // Sub-byte dtypes have no element to work on.
        var f4 = new byte[64];
        Assert.That(DeadBits.TryPlan(f4, DType.F4, out _), Is.False);
        Assert.That(Palette.TryPlan(f4, DType.F6_E2M3, [], out _), Is.False);
        Assert.That(ZeroMask.TryPlan(f4, DType.F4, out _), Is.False);
    }
}
