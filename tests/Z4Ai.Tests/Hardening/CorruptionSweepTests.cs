using System.Text;
using NUnit.Framework;
using Z4Ai.Fuzz;

namespace Z4Ai.Tests.Hardening;

/// <summary>
/// The corruption sweep: for each kind of file Z4Ai reads, every single-bit flip and every truncation of a small
/// valid file (sampled bits of a larger container) is detected (a Z4AiException) or provably harmless (the output is
/// byte-identical to the original's). The counts are written to the test output; docs/reliability.md reports them.
/// </summary>
[NonParallelizable]
public class CorruptionSweepTests
{
    private string _dir = null!;
    private string _base = null!;
    private string _target = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-sweep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _base = Path.Combine(_dir, "base.safetensors");
        _target = Path.Combine(_dir, "target.safetensors");
        var plain = new SaveOptions { Format = StorageFormat.SafeTensors };
        SafeTensorsCompat.SaveFile(FuzzModels.Base(), _base, FuzzModels.Metadata(), plain);
        SafeTensorsCompat.SaveFile(FuzzModels.FineTune(), _target, FuzzModels.Metadata(), plain);
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Container_EveryBitFlipAndTruncation_AllDetected()
    {
        byte[] container = SafeTensorsCompat.Save(FuzzModels.Base(), FuzzModels.Metadata());
        CorruptionSweep.FlipBits(container, ReadContainer).AssertAllDetected("container");
        CorruptionSweep.Truncate(container, ReadContainer).AssertAllDetected("container");
    }

    [Test]
    public void LargerContainer_SampledBitFlipsAndTruncations_AllDetected()
    {
        var random = new Random(3);
        float[] values = new float[96 * 1024];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() - 0.5);
        }

        var tensors = new Dictionary<string, Tensor>
        {
            ["big"] = Tensor.FromArray<float>(DType.F32, [96, 1024], values),
            ["small"] = Tensor.FromArray<float>(DType.F32, [16], values.AsSpan(0, 16)),
        };
        byte[] container = SafeTensorsCompat.Save(tensors, options: new SaveOptions { ChunkSize = 64 << 10 });
        Assert.That(container.Length, Is.GreaterThan(100_000));
        CorruptionSweep.FlipBits(container, ReadContainer, CorruptionSweep.SampleBits(container.Length, 600, seed: 1)).AssertAllDetected("larger container (sampled)");
        SweepResult truncated = new("truncations");
        byte[] expected = ReadContainer(container);
        foreach (int length in CorruptionSweep.SampleBits(container.Length, 60, seed: 2).Select(b => (int)(b / 8)).Concat(Enumerable.Range(container.Length - 64, 64)))
        {
            truncated.Record(Outcome(container.AsSpan(0, length).ToArray(), ReadContainer, expected), $"length {length}");
        }

        truncated.AssertAllDetected("larger container (sampled)");
    }

    [Test]
    public void CodecFrame_EveryBitFlipAndTruncation_AllDetected()
    {
        byte[] frame = Z4AiCodec.Compress(FuzzModels.Base()["layer.0.weight"], new CodecOptions { ChunkSize = 4096 });
        CorruptionSweep.FlipBits(frame, f => Z4AiCodec.Decompress(f)).AssertNoWrongOutput("codec frame").ReportHarmless();
        CorruptionSweep.Truncate(frame, f => Z4AiCodec.Decompress(f)).AssertAllDetected("codec frame");
    }

    [Test]
    public void DeltaFrame_EveryBitFlipAndTruncation_AllDetected()
    {
        byte[] delta = DeltaCodec.Compress(FuzzModels.DeltaCurrent(), FuzzModels.DeltaReference, DType.BF16, new DeltaOptions { ChunkSize = 256 });
        CorruptionSweep.FlipBits(delta, d => DeltaCodec.Decompress(d, FuzzModels.DeltaReference)).AssertNoWrongOutput("delta frame").ReportHarmless();
        CorruptionSweep.Truncate(delta, d => DeltaCodec.Decompress(d, FuzzModels.DeltaReference)).AssertAllDetected("delta frame");
    }

    [Test]
    public void ArchiveFrame_EveryBitFlipAndTruncation_AllDetected()
    {
        byte[] archive = ArchiveCodec.Compress(
            Encoding.UTF8.GetBytes("{\"format\": \"pt\", \"note\": \"a small archive for the corruption sweep\"}"), new ArchiveOptions { UsePrimer = false });
        CorruptionSweep.FlipBits(archive, a => ArchiveCodec.Decompress(a)).AssertNoWrongOutput("archive").ReportHarmless();
        CorruptionSweep.Truncate(archive, a => ArchiveCodec.Decompress(a)).AssertAllDetected("archive");
    }

    [Test]
    public void ModelDelta_EveryBitFlipAndTruncation_AllDetected()
    {
        string path = Path.Combine(_dir, "target.z4delta");
        DeltaCodec.CompressFile(_target, _base, path, new DeltaOptions { ChunkSize = 64 });
        byte[] delta = File.ReadAllBytes(path);
        string input = Path.Combine(_dir, "mutated.z4delta");
        string output = Path.Combine(_dir, "restored.safetensors");
        byte[] Read(byte[] bytes)
        {
            File.WriteAllBytes(input, bytes);
            DeltaCodec.DecompressFile(input, _base, output);
            return File.ReadAllBytes(output);
        }

        Assert.That(Read(delta), Is.EqualTo(File.ReadAllBytes(_target)));
        CorruptionSweep.FlipBits(delta, Read).AssertAllDetected(".z4delta");
        CorruptionSweep.Truncate(delta, Read).AssertAllDetected(".z4delta");
    }

    [Test]
    public void LossyDelta_EveryBitFlipAndTruncation_AllDetected()
    {
        string path = Path.Combine(_dir, "target.z4al");
        LossyDelta.Compress(_target, _base, path, new LossyOptions { MinElements = 16 });
        byte[] delta = File.ReadAllBytes(path);
        string input = Path.Combine(_dir, "mutated.z4al");
        string output = Path.Combine(_dir, "reconstructed.safetensors");
        byte[] Read(byte[] bytes)
        {
            File.WriteAllBytes(input, bytes);
            LossyDelta.Reconstruct(input, _base, output);
            return File.ReadAllBytes(output);
        }

        CorruptionSweep.FlipBits(delta, Read).AssertNoWrongOutput(".z4al").ReportHarmless();
        CorruptionSweep.Truncate(delta, Read).AssertAllDetected(".z4al");
    }

    [Test]
    public void Registry_EveryBitFlipAndTruncationOfEveryBlob_DetectedOrHarmless()
    {
        // Two tensors keep the manifests small enough to sweep every bit in seconds.
        string[] keep = ["layer.0.weight", "ids"];
        string baseModel = Path.Combine(_dir, "registry-base.safetensors");
        string fineTune = Path.Combine(_dir, "registry-ft.safetensors");
        var plain = new SaveOptions { Format = StorageFormat.SafeTensors };
        SafeTensorsCompat.SaveFile(FuzzModels.Base().Where(p => keep.Contains(p.Key)).ToDictionary(), baseModel, options: plain);
        SafeTensorsCompat.SaveFile(FuzzModels.FineTune().Where(p => keep.Contains(p.Key)).ToDictionary(), fineTune, options: plain);
        string store = Path.Combine(_dir, "registry");
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(store), baseModel, "base");
        registry.Add(fineTune, "fine-tune", "base");
        string output = Path.Combine(_dir, "got.safetensors");
        byte[] expectedBase = File.ReadAllBytes(baseModel);
        byte[] expectedFineTune = File.ReadAllBytes(fineTune);
        string[] blobs = Directory.GetFiles(store, "*", SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).Length > 0 && !Path.GetRelativePath(store, f).StartsWith("tmp", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToArray();
        Assert.That(blobs.Count(b => b.EndsWith(".json", StringComparison.Ordinal)), Is.EqualTo(3), "registry.json and two manifests");
        Assert.That(blobs.Length, Is.GreaterThan(3), "and objects");
        foreach (string blob in blobs)
        {
            byte[] original = File.ReadAllBytes(blob);
            string name = Path.GetRelativePath(store, blob);

            // A flipped manifest can only affect its own version; the root record and objects can affect both.
            string[] versions = name.StartsWith("manifests", StringComparison.Ordinal) ? [Path.GetFileNameWithoutExtension(blob)] : ["base", "fine-tune"];
            byte[] Read(byte[] bytes)
            {
                File.WriteAllBytes(blob, bytes);
                ModelRegistry opened = ModelRegistry.Open(new LocalBlobStore(store));
                using var all = new MemoryStream();
                foreach (string version in versions)
                {
                    opened.Get(version, output);
                    all.Write(File.ReadAllBytes(output));
                }

                return all.ToArray();
            }

            byte[] expected = versions.Length == 2 ? [.. expectedBase, .. expectedFineTune] : versions[0] == "base" ? expectedBase : expectedFineTune;
            try
            {
                Assert.That(Read(original), Is.EqualTo(expected), name);
                CorruptionSweep.FlipBits(original, Read).AssertNoWrongOutput("registry " + name).ReportHarmless();
                SweepResult truncations = CorruptionSweep.Truncate(original, Read).AssertNoWrongOutput("registry " + name);
                truncations.ReportHarmless();

                // The JSON records end with a newline; dropping it leaves the same record (checksummed body intact).
                int undetected = truncations.Cases - truncations.Detected;
                Assert.That(undetected, Is.EqualTo(name.EndsWith(".json", StringComparison.Ordinal) ? 1 : 0), name);
                if (undetected == 1)
                {
                    Assert.That(truncations.HarmlessCases, Is.EqualTo(new[] { $"length {original.Length - 1}" }));
                    Assert.That(original[^1], Is.EqualTo((byte)'\n'));
                }
            }
            finally
            {
                File.WriteAllBytes(blob, original);
            }
        }
    }

    private static byte[] ReadContainer(byte[] bytes)
    {
        using var all = new MemoryStream();
        using (var input = new MemoryStream(bytes, writable: false))
        {
            Z4AiContainer.Decompress(input, all);
        }

        using var stream = new MemoryStream(bytes, writable: false);
        using SafeTensorsReader reader = SafeTensorsCompat.Open(stream);
        foreach (string name in reader.OffsetKeys)
        {
            all.Write(reader.GetTensor(name).Data.Span);
        }

        return all.ToArray();
    }

    private static CorruptionSweep.Outcome Outcome(byte[] input, Func<byte[], byte[]> read, byte[] expected)
    {
        try
        {
            return read(input).AsSpan().SequenceEqual(expected) ? CorruptionSweep.Outcome.Harmless : CorruptionSweep.Outcome.Wrong;
        }
        catch (Z4AiException)
        {
            return CorruptionSweep.Outcome.Detected;
        }
    }
}
