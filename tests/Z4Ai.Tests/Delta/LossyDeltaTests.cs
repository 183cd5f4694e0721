using NUnit.Framework;

namespace Z4Ai.Tests.Delta;

/// <summary>The lossy-delta file: round trips per tier, modes per tensor, overrides, determinism, wrong bases, damage.</summary>
public class LossyDeltaTests
{
    private string _dir = null!;
    private string _base = null!;
    private string _target = null!;

    [OneTimeSetUp]
    public void CreateModels()
    {
        _dir = LossyTestModels.CreateDirectory();
        (_base, _target) = LossyTestModels.WritePair(_dir, nanInTarget: true);
    }

    [OneTimeTearDown]
    public void DeleteModels() => LossyTestModels.DeleteDirectory(_dir);

    [TestCase(LossyTier.Lossless)]
    [TestCase(LossyTier.Int8)]
    [TestCase(LossyTier.Int4)]
    [TestCase(LossyTier.Sparse)]
    [TestCase(LossyTier.OneBit)]
    public void CompressReconstruct_EveryTier_ExactWhereLosslessAndCloseElsewhere(LossyTier tier)
    {
        string delta = Path.Combine(_dir, $"rt-{tier}.z4al");
        string output = Path.Combine(_dir, $"rt-{tier}.safetensors");
        LossyDeltaInfo info = LossyDelta.Compress(_target, _base, output: delta, new LossyOptions { Tier = tier, MinElements = 1024 });
        LossyDelta.Reconstruct(delta, _base, output);

        var target = SafeTensorsCompat.LoadFile(_target);
        var rebuilt = SafeTensorsCompat.LoadFile(output);
        Assert.That(rebuilt.Keys, Is.EquivalentTo(target.Keys));
        byte[] targetFile = File.ReadAllBytes(_target);
        byte[] rebuiltFile = File.ReadAllBytes(output);
        Assert.That(rebuiltFile, Has.Length.EqualTo(targetFile.Length));
        int headerLength = 8 + (int)BitConverter.ToInt64(targetFile, 0);
        Assert.That(rebuiltFile.AsSpan(0, headerLength).SequenceEqual(targetFile.AsSpan(0, headerLength)), "the target's header, metadata included, is kept");

        var modes = info.Tensors.ToDictionary(t => t.Name, t => t.Mode);
        string[] alwaysExact = ["layer.bias", "small.weight", "counts", "new.weight", "reshaped.weight", "nan.weight"];
        foreach (string name in alwaysExact)
        {
            Assert.That(modes[name], Is.EqualTo(LossyTier.Lossless), name);
            Assert.That(rebuilt[name].Data.ToArray(), Is.EqualTo(target[name].Data.ToArray()), name);
        }

        foreach (string name in new[] { "layer.weight", "emb.weight", "half.weight" })
        {
            Assert.That(modes[name], Is.EqualTo(tier), name);
            LossyTensorInfo t = info.Tensors.Single(x => x.Name == name);
            double limit = tier switch { LossyTier.Lossless => 0, LossyTier.Int8 => 0.02, LossyTier.Int4 => 0.3, _ => 1.0 };
            Assert.That(t.RelativeL2OfDelta, Is.LessThanOrEqualTo(limit), name);
            Assert.That(Measure(target[name], rebuilt[name]), Is.EqualTo(t.MaxAbs).Within(1e-12), $"{name}: the recorded max error is the real one");
        }

        Assert.That(info.IsLossy, Is.EqualTo(tier != LossyTier.Lossless));
        Assert.That(info.TargetSha256 == info.ReconstructedSha256, Is.EqualTo(tier == LossyTier.Lossless));
    }

    [Test]
    public void Inspect_WithoutBase_MatchesWhatCompressReported()
    {
        string delta = Path.Combine(_dir, "inspect.z4al");
        LossyDeltaInfo written = LossyDelta.Compress(_target, _base, delta, new LossyOptions { Tier = LossyTier.Int4 });
        LossyDeltaInfo read = LossyDelta.Inspect(delta);
        Assert.That(read.FileSha256, Is.EqualTo(written.FileSha256));
        Assert.That(read.FileLength, Is.EqualTo(new FileInfo(delta).Length));
        Assert.That(read.Settings, Is.EqualTo(written.Settings));
        Assert.That(read.Settings.OutlierPpm, Is.EqualTo(5000));
        Assert.That(read.BaseSha256, Is.EqualTo(written.BaseSha256));
        Assert.That(read.Tensors.Select(t => (t.Name, t.Mode, t.StoredBytes, t.MaxAbs, t.ReconstructedSha256)),
            Is.EqualTo(written.Tensors.Select(t => (t.Name, t.Mode, t.StoredBytes, t.MaxAbs, t.ReconstructedSha256))));
        Assert.That(LossyDelta.Inspect(File.ReadAllBytes(delta)).FileSha256, Is.EqualTo(written.FileSha256));
        Assert.That(LossyDelta.IsLossyDelta(delta), Is.True);
        Assert.That(LossyDelta.IsLossyDelta(_target), Is.False);
    }

    [Test]
    public void Compress_Twice_SameBytes()
    {
        string a = Path.Combine(_dir, "det-a.z4al");
        string b = Path.Combine(_dir, "det-b.z4al");
        foreach (LossyTier tier in new[] { LossyTier.Int8, LossyTier.OneBit })
        {
            LossyDelta.Compress(_target, _base, a, new LossyOptions { Tier = tier });
            LossyDelta.Compress(_target, _base, b, new LossyOptions { Tier = tier });
            Assert.That(File.ReadAllBytes(b), Is.EqualTo(File.ReadAllBytes(a)), tier.ToString());
        }
    }

    [Test]
    public void Compress_Overrides_ExactNameBeatsGlobAndReachesSmallTensors()
    {
        var options = new LossyOptions { Tier = LossyTier.Int8 };
        options.TensorTiers.Add(new("*.weight", LossyTier.OneBit));
        options.TensorTiers.Add(new("emb.weight", LossyTier.Lossless));
        options.TensorTiers.Add(new("layer.b?as", LossyTier.Int4));
        string delta = Path.Combine(_dir, "overrides.z4al");
        var modes = LossyDelta.Compress(_target, _base, delta, options).Tensors.ToDictionary(t => t.Name, t => t.Mode);
        Assert.That(modes["emb.weight"], Is.EqualTo(LossyTier.Lossless));
        Assert.That(modes["layer.weight"], Is.EqualTo(LossyTier.OneBit));
        Assert.That(modes["half.weight"], Is.EqualTo(LossyTier.OneBit));
        Assert.That(modes["small.weight"], Is.EqualTo(LossyTier.OneBit), "a glob override reaches small tensors");
        Assert.That(modes["layer.bias"], Is.EqualTo(LossyTier.Int4), "and rank-1 ones");
        Assert.That(modes["counts"], Is.EqualTo(LossyTier.Lossless), "never integers");
    }

    [Test]
    public void GlobMatches_Patterns()
    {
        Assert.That(LossyOptions.GlobMatches("*", ""), Is.True);
        Assert.That(LossyOptions.GlobMatches("a*b*c", "aXXbYYc"), Is.True);
        Assert.That(LossyOptions.GlobMatches("a*b*c", "aXXbYY"), Is.False);
        Assert.That(LossyOptions.GlobMatches("layer.?.weight", "layer.1.weight"), Is.True);
        Assert.That(LossyOptions.GlobMatches("layer.?.weight", "layer.12.weight"), Is.False);
        Assert.That(LossyOptions.GlobMatches("*.bias", "fc1.bias"), Is.True);
        Assert.That(LossyOptions.GlobMatches(new string('*', 40) + "x", new string('a', 200)), Is.False);
    }

    [Test]
    public void Compress_ContainerInputs_SameModelIdentitiesAsPlainFiles()
    {
        string baseZ = Path.Combine(_dir, "base.z4ai");
        string targetZ = Path.Combine(_dir, "target.z4ai");
        Z4AiContainer.Compress(_base, baseZ);
        Z4AiContainer.Compress(_target, targetZ);
        LossyDeltaInfo plain = LossyDelta.Compress(_target, _base, Path.Combine(_dir, "plain.z4al"), new LossyOptions { Tier = LossyTier.Int8 });
        string fromContainers = Path.Combine(_dir, "containers.z4al");
        LossyDeltaInfo packed = LossyDelta.Compress(targetZ, baseZ, fromContainers, new LossyOptions { Tier = LossyTier.Int8 });
        Assert.That(packed.BaseSha256, Is.EqualTo(plain.BaseSha256));
        Assert.That(packed.TargetSha256, Is.EqualTo(plain.TargetSha256));
        Assert.That(packed.ReconstructedSha256, Is.EqualTo(plain.ReconstructedSha256));
        string output = Path.Combine(_dir, "containers.safetensors");
        LossyDelta.Reconstruct(fromContainers, baseZ, output);
        Assert.That(SafeTensorsCompat.LoadFile(output).Keys, Is.EquivalentTo(SafeTensorsCompat.LoadFile(_target).Keys));
    }

    [Test]
    public void Reconstruct_WrongBase_ReferenceMismatchAndNoOutput()
    {
        string delta = Path.Combine(_dir, "wrongbase.z4al");
        LossyDelta.Compress(_target, _base, delta, new LossyOptions { Tier = LossyTier.Int4 });
        (string otherBase, _) = LossyTestModels.WritePair(_dir, seed: 2);
        string output = Path.Combine(_dir, "wrongbase.safetensors");
        var ex = Assert.Throws<Z4AiFormatException>(() => LossyDelta.Reconstruct(delta, otherBase, output));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
        Assert.That(ex.TensorName, Is.Not.Null);
        Assert.That(File.Exists(output), Is.False);
        Assert.That(Directory.EnumerateFiles(_dir, "*.tmp", SearchOption.AllDirectories), Is.Empty);

        var missing = Assert.Throws<Z4AiFormatException>(() => LossyDelta.Reconstruct(delta, _target, output), "a base without old/reshaped tensors of the right shape");
        Assert.That(missing!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
    }

    [Test]
    public void InspectAndReconstruct_DamagedFiles_OnlyZ4AiExceptionsAndNoOutput()
    {
        string delta = Path.Combine(_dir, "damage.z4al");
        LossyDelta.Compress(_target, _base, delta, new LossyOptions { Tier = LossyTier.Int4 });
        byte[] good = File.ReadAllBytes(delta);
        string damaged = Path.Combine(_dir, "damaged.z4al");
        string output = Path.Combine(_dir, "damaged.safetensors");
        var random = new Random(17);
        var cuts = Enumerable.Range(0, 60).Select(_ => random.Next(good.Length)).Append(0).Append(good.Length - 1);
        foreach (int cut in cuts)
        {
            File.WriteAllBytes(damaged, good.AsSpan(0, cut).ToArray());
            Assert.Throws(Is.InstanceOf<Z4AiException>(), () => LossyDelta.Inspect(damaged), $"cut at {cut}");
        }

        int failures = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            byte[] mutated = (byte[])good.Clone();
            int position = trial < 50 ? good.Length - 1 - random.Next(Math.Min(good.Length, 400)) : random.Next(good.Length);
            mutated[position] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(damaged, mutated);
            try
            {
                LossyDelta.Inspect(damaged);
                LossyDelta.Reconstruct(damaged, _base, output);
                // A flip the checks cannot see (in padding the decoder ignores) must still give the right model.
                Assert.That(SafeTensorsCompat.LoadFile(output).Keys, Is.EquivalentTo(SafeTensorsCompat.LoadFile(_target).Keys));
                LossyDelta.Reconstruct(delta, _base, output + ".good");
                Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(output + ".good")), $"byte {position}");
                File.Delete(output);
            }
            catch (Z4AiException)
            {
                failures++;
                Assert.That(File.Exists(output), Is.False, $"no output after a failure (byte {position})");
            }
        }

        Assert.That(failures, Is.GreaterThan(140), "almost every flip is detected: by the index hash, the frames, or a tensor's SHA-256");
    }

    [Test]
    public void Compress_MissingInput_FileNotFoundAndNoOutput()
    {
        string output = Path.Combine(_dir, "missing.z4al");
        Assert.Throws<FileNotFoundException>(() => LossyDelta.Compress(Path.Combine(_dir, "nope.safetensors"), _base, output));
        Assert.That(File.Exists(output), Is.False);
    }

    private static double Measure(Tensor target, Tensor rebuilt)
    {
        float[] t = target.ToSingleArray();
        float[] r = rebuilt.ToSingleArray();
        double max = 0;
        for (int i = 0; i < t.Length; i++)
        {
            max = Math.Max(max, Math.Abs((double)r[i] - t[i]));
        }

        return max;
    }
}
