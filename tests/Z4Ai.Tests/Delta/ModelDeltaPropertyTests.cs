using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// Round trips over random model pairs: added, dropped, renamed, re-ordered, resized, retyped and edited tensors of
/// every dtype, as plain files (with hand-written headers) or containers, through small chunks and segments.
/// </summary>
[NonParallelizable]
public class ModelDeltaPropertyTests
{
    private static readonly DType[] AllDTypes = Enum.GetValues<DType>();

    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-modeldelta-prop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void CompressFileThenDecompressFile_RandomModelPairs_RestoresTheTargetByteForByte()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            List<KeyValuePair<string, Tensor>> @base = RandomModel(random, random.Next(0, 7));
            List<KeyValuePair<string, Tensor>> target = Derive(random, @base);
            string basePath = WriteModel(random, "base", @base);
            string plainTarget = Path.Combine(_dir, "target.safetensors");
            File.WriteAllBytes(plainTarget, ModelDeltaModels.RawFile(target, reverse: false, metadata: random.Next(3) == 0 ? "{\"seed\":\"" + seed + "\"}" : null));
            string targetPath = random.Next(3) == 0 ? ModelDeltaModels.Compress(plainTarget) : plainTarget;
            string delta = Path.Combine(_dir, "delta.z4delta");
            string restored = Path.Combine(_dir, "restored.safetensors");

            ModelDeltaWriterOptions options = random.Next(2) == 0
                ? ModelDeltaModels.SmallOptions
                : new ModelDeltaWriterOptions { ChunkSize = 64, FrameSize = 64, SegmentSize = 64, MaxDegreeOfParallelism = 1 + random.Next(3) };
            ModelDeltaReport report = DeltaCodec.CompressFileCore(targetPath, basePath, delta, options, null, default);
            DeltaCodec.DecompressFile(delta, basePath, restored);
            Assert.That(File.ReadAllBytes(restored), Is.EqualTo(File.ReadAllBytes(plainTarget)), $"seed {seed}");
            Assert.That(DeltaCodec.InspectFile(delta).Tensors.Select(t => (t.Name, t.Mode, t.StoredBytes)), Is.EqualTo(report.Tensors.Select(t => (t.Name, t.Mode, t.StoredBytes))), $"seed {seed}");
            foreach (string file in Directory.GetFiles(_dir))
            {
                File.Delete(file);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(120));
    }

    private static List<KeyValuePair<string, Tensor>> RandomModel(Random random, int count)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (int i = 0; i < count; i++)
        {
            tensors.Add(new($"t{i}", RandomTensor(random, AllDTypes[random.Next(AllDTypes.Length)])));
        }

        return tensors;
    }

    private static Tensor RandomTensor(Random random, DType dtype)
    {
        int rank = random.Next(0, 4);
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            // Mostly small, sometimes large enough to span several chunks and segments, sometimes empty.
            shape[d] = random.Next(10) == 0 ? 0 : random.Next(1, d == 0 && random.Next(4) == 0 ? 160 : 9);
        }

        if (rank == 0 && dtype.BitSize() < 8)
        {
            shape = [8];
        }
        else if (dtype.BitSize() < 8 && rank > 0)
        {
            shape[^1] = ((shape[^1] + 7) / 8) * 8; // whole bytes for 4- and 6-bit elements
        }

        long elements = shape.Aggregate(1L, (a, b) => a * b);
        byte[] data = new byte[elements * dtype.BitSize() / 8];
        random.NextBytes(data);
        return new Tensor(dtype, shape, data);
    }

    private static List<KeyValuePair<string, Tensor>> Derive(Random random, List<KeyValuePair<string, Tensor>> @base)
    {
        var target = new List<KeyValuePair<string, Tensor>>();
        foreach ((string name, Tensor t) in @base)
        {
            switch (random.Next(8))
            {
                case 0: // dropped
                    break;
                case 1: // renamed
                    target.Add(new("renamed." + name, Edit(random, t)));
                    break;
                case 2: // resized: same name and dtype, more or fewer elements
                    target.Add(new(name, Resize(random, t)));
                    break;
                case 3: // retyped, same shape where the bit count allows
                    DType other = AllDTypes[random.Next(AllDTypes.Length)];
                    target.Add(new(name, RandomTensor(random, other)));
                    break;
                case 4: // identical
                    target.Add(new(name, t));
                    break;
                default: // edited in place
                    target.Add(new(name, Edit(random, t)));
                    break;
            }
        }

        for (int i = random.Next(0, 3); i > 0; i--)
        {
            target.Add(new($"added{i}", RandomTensor(random, AllDTypes[random.Next(AllDTypes.Length)])));
        }

        if (random.Next(3) == 0 && @base.Count > 0)
        {
            // A copy of a base tensor under a new name and shape (same bytes).
            Tensor source = @base[random.Next(@base.Count)].Value;
            target.Add(new("copied", new Tensor(DType.U8, [source.Data.Length], source.Data)));
        }

        // Re-ordered.
        return target.OrderBy(_ => random.Next()).ToList();
    }

    private static Tensor Edit(Random random, Tensor t)
    {
        byte[] data = t.Data.ToArray();
        int edits = data.Length == 0 ? 0 : random.Next(0, 1 + (data.Length / 8));
        for (int i = 0; i < edits; i++)
        {
            data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
        }

        return new Tensor(t.DType, t.GetShape(), data);
    }

    private static Tensor Resize(Random random, Tensor t)
    {
        int unit = t.DType.BitSize() < 8 ? 8 : 1;
        long first = t.Shape.Count == 0 ? 1 : t.Shape[0];
        long[] shape = t.Shape.Count == 0 ? [1 + unit] : t.GetShape();
        shape[0] = Math.Max(0, first + (random.Next(-2, 3) * unit));
        if (t.DType.BitSize() < 8)
        {
            shape[^1] = Math.Max(8, ((shape[^1] + 7) / 8) * 8);
        }

        long elements = shape.Aggregate(1L, (a, b) => a * b);
        byte[] data = new byte[elements * t.DType.BitSize() / 8];
        random.NextBytes(data);
        t.Data.Span[..Math.Min(t.Data.Length, data.Length)].CopyTo(data);
        return new Tensor(t.DType, shape, data);
    }

    private string WriteModel(Random random, string name, List<KeyValuePair<string, Tensor>> model)
    {
        string path = Path.Combine(_dir, name + ".safetensors");
        File.WriteAllBytes(path, ModelDeltaModels.RawFile(model, reverse: random.Next(2) == 0, metadata: null));
        return random.Next(3) == 0 ? ModelDeltaModels.Compress(path) : path;
    }
}
