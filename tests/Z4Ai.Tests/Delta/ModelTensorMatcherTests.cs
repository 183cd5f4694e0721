using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Tests.Delta;

/// <summary>How target tensors find their base tensors.</summary>
public class ModelTensorMatcherTests
{
    [Test]
    public void Match_SameNameAndShape_PairsByName()
    {
        ModelTensor[] @base = [T("a", DType.BF16, [4, 4], 1), T("b", DType.BF16, [4, 4], 2)];
        ModelTensor[] target = [T("b", DType.BF16, [4, 4], 3), T("a", DType.BF16, [4, 4], 4)];
        ModelMatch[] m = ModelTensorMatcher.Match(target, @base);
        Assert.That(m, Is.EqualTo(new[] { new ModelMatch(ModelMatchKind.Name, 1, -1), new ModelMatch(ModelMatchKind.Name, 0, -1) }));
    }

    [Test]
    public void Match_RenamedTensors_PairByDTypeAndShapeInPositionOrder()
    {
        ModelTensor[] @base = [T("l0.q", DType.BF16, [4, 4], 1), T("l0.mlp", DType.BF16, [8, 4], 2), T("l1.q", DType.BF16, [4, 4], 3)];
        ModelTensor[] target = [T("b0.q", DType.BF16, [4, 4], 11), T("b0.mlp", DType.BF16, [8, 4], 12), T("b1.q", DType.BF16, [4, 4], 13)];
        ModelMatch[] m = ModelTensorMatcher.Match(target, @base);
        Assert.That(m.Select(x => (x.Kind, x.BaseIndex)), Is.EqualTo(new[] { (ModelMatchKind.Position, 0), (ModelMatchKind.Position, 1), (ModelMatchKind.Position, 2) }));
    }

    [Test]
    public void Match_IdenticalBytesElsewhere_IsACopyAndLeavesThePositionStageAligned()
    {
        // Everything renamed and re-ordered; only "x.q1" changed. The copies must not consume base tensors that the
        // changed tensor needs to pair with.
        ModelTensor[] @base = [T("q0", DType.BF16, [4, 4], 1), T("q1", DType.BF16, [4, 4], 2), T("q2", DType.BF16, [4, 4], 3)];
        ModelTensor[] target = [T("x.q2", DType.BF16, [4, 4], 3), T("x.q0", DType.BF16, [4, 4], 1), T("x.q1", DType.BF16, [4, 4], 99)];
        ModelMatch[] m = ModelTensorMatcher.Match(target, @base);
        Assert.That(m[0].CopyOf, Is.EqualTo(2));
        Assert.That(m[1].CopyOf, Is.EqualTo(0));
        Assert.That((m[2].Kind, m[2].BaseIndex, m[2].CopyOf), Is.EqualTo((ModelMatchKind.Position, 1, -1)));
    }

    [Test]
    public void Match_CopyPrefersItsOwnPairThenTheSameName()
    {
        // Two base tensors with the same bytes: the copy points at the one with the target's name.
        ModelTensor[] @base = [T("tied.a", DType.BF16, [4], 7), T("tied.b", DType.BF16, [4], 7)];
        ModelTensor[] target = [T("tied.b", DType.BF16, [2, 2], 7)];
        Assert.That(ModelTensorMatcher.Match(target, @base)[0].CopyOf, Is.EqualTo(1));
    }

    [Test]
    public void Match_SameNameOtherShape_PairsAsResizedOnlyForTheSameDType()
    {
        ModelTensor[] @base = [T("embed", DType.BF16, [10, 4], 1), T("norm", DType.F16, [4], 2)];
        ModelTensor[] target = [T("embed", DType.BF16, [12, 4], 3), T("norm", DType.F32, [4], 4)];
        ModelMatch[] m = ModelTensorMatcher.Match(target, @base);
        Assert.That((m[0].Kind, m[0].BaseIndex), Is.EqualTo((ModelMatchKind.Resized, 0)));
        Assert.That((m[1].Kind, m[1].BaseIndex, m[1].CopyOf), Is.EqualTo((ModelMatchKind.None, -1, -1)), "F16 to F32 is never paired");
    }

    [Test]
    public void Match_EmptyTensors_AreNeverPairedOrCopied()
    {
        ModelTensor[] @base = [T("e", DType.F32, [0], 0, length: 0)];
        ModelTensor[] target = [T("e", DType.F32, [0], 0, length: 0), T("f", DType.F32, [0, 3], 0, length: 0)];
        Assert.That(ModelTensorMatcher.Match(target, @base), Is.All.EqualTo(new ModelMatch(ModelMatchKind.None, -1, -1)));
    }

    [Test]
    public void ModelDigest_DependsOnTensorsNotOrder()
    {
        ModelTensor[] a = [T("x", DType.BF16, [4], 1), T("y", DType.F32, [2], 2)];
        Sha256Digest d = ModelDigest.Compute(a);
        Assert.That(ModelDigest.Compute(a.Reverse()), Is.EqualTo(d));
        Assert.That(ModelDigest.Compute([a[0] with { Name = "z" }, a[1]]), Is.Not.EqualTo(d));
        Assert.That(ModelDigest.Compute([a[0] with { Shape = [2, 2] }, a[1]]), Is.Not.EqualTo(d));
        Assert.That(ModelDigest.Compute([a[0] with { DType = DType.F16 }, a[1]]), Is.Not.EqualTo(d));
        Assert.That(ModelDigest.Compute([a[0], a[1] with { Digest = Sha256Digest.Compute([9]) }]), Is.Not.EqualTo(d));
        Assert.That(ModelDigest.Compute([a[0]]), Is.Not.EqualTo(d));
    }

    private static ModelTensor T(string name, DType dtype, long[] shape, byte content, long? length = null) =>
        new(name, dtype, shape, length ?? (shape.Aggregate(1L, (x, y) => x * y) * dtype.ElementSize()), Sha256Digest.Compute([content]));
}
