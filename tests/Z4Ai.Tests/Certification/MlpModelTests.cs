using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Certification;
using Z4Ai.Tests.Delta;

namespace Z4Ai.Tests.Certification;

/// <summary>The built-in classifier's kernels: the vector update against its scalar oracle, save and load.</summary>
public class MlpModelTests
{
    private static readonly int[] AwkwardLengths = [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513];

    [TestCaseSource(nameof(AwkwardLengths))]
    public void Axpy_AwkwardLengths_BitIdenticalToScalarOracle(int length)
    {
        var random = new Random(length);
        float[] y = Enumerable.Range(0, length).Select(_ => LossyTestModels.Gaussian(random)).ToArray();
        float[] x = Enumerable.Range(0, length).Select(_ => LossyTestModels.Gaussian(random) * 1e-3f).ToArray();
        float a = LossyTestModels.Gaussian(random);
        float[] expected = (float[])y.Clone();
        for (int i = 0; i < length; i++)
        {
            float product = a * x[i];
            expected[i] += product;
        }

        MlpModel.Axpy(y, a, x);
        Assert.That(y.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void SaveLoad_RandomModel_SameWeightsAndPredictions()
    {
        string dir = Directory.CreateTempSubdirectory("z4ai-mlp-").FullName;
        try
        {
            MlpModel model = MlpModel.CreateRandom([784, 20, 10], seed: 3);
            string path = Path.Combine(dir, "m.safetensors");
            model.Save(path, null);
            MlpModel loaded = MlpModel.Load(path, 784, 10);
            Assert.That(loaded.Sizes, Is.EqualTo(model.Sizes));
            Assert.That(loaded.WeightsT[0], Is.EqualTo(model.WeightsT[0]));
            Assert.That(loaded.WeightsT[1], Is.EqualTo(model.WeightsT[1]));
            var tensors = SafeTensorsCompat.LoadFile(path);
            Assert.That(tensors["fc1.weight"].Shape, Is.EqualTo(new long[] { 20, 784 }), "stored [out, in] as PyTorch does");
            Assert.That(MlpModel.CreateRandom([784, 20, 10], seed: 3).WeightsT[0], Is.EqualTo(model.WeightsT[0]), "seeded initialisation");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ArgMax_Ties_FirstIndex() => Assert.That(MlpModel.ArgMax([1f, 3f, 3f, -1f]), Is.EqualTo(1));

    [Test]
    public void Symbols_RandomStreams_RoundTripAndNeverExceedPacked()
    {
        Gen<(int Bits, byte[] Symbols)> gen =
            from bits in Gen.Elements(1, 4, 8)
            from length in Gen.Choose(0, 300)
            from values in Gen.Choose(0, (1 << bits) - 1).Select(v => (byte)v).ArrayOf(length)
            select (bits, values);
        Prop.ForAll(gen.ToArbitrary(), c =>
        {
            using var output = new CommunityToolkit.HighPerformance.Buffers.ArrayPoolBufferWriter<byte>();
            Z4Ai.Delta.LossySymbols.WriteSymbols(c.Symbols, c.Bits, 0, CompressionEffort.Fast, output);
            byte[] decoded = new byte[c.Symbols.Length];
            var reader = new Z4Ai.Internal.SpanReader(output.WrittenSpan);
            Z4Ai.Delta.LossySymbols.ReadSymbols(ref reader, c.Bits, 0, decoded);
            return decoded.AsSpan().SequenceEqual(c.Symbols) && reader.Remaining == 0
                && output.WrittenCount <= 1 + Z4Ai.Internal.VarInt.MaxLength + (((c.Symbols.Length * c.Bits) + 7) / 8);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }
}
