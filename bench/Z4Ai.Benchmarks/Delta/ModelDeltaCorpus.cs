using System.Diagnostics;
using Z4Ai.Entropy;

namespace Z4Ai.Benchmarks.Delta;

/// <summary>
/// Model-level delta tables for <c>delta-corpus</c>: the synthetic checkpoints written as model files, a larger
/// model for throughput, and the real checkpoint pairs of the shared sample folder. Each row compares the Z4Ai model
/// delta with compressing the target alone (a <c>.z4ai</c> container) and with zstd -19 of the plain XOR, in the
/// same run; decode throughput includes hashing the plain base (the up-front identity check), verifying every
/// rebuilt tensor's SHA-256 and writing the file (flushed to disk). Besides wall-clock MB/s it prints MB per
/// CPU-second of the whole process, which a busy machine does not distort (on an idle machine wall-clock MB/s is
/// about that times the cores used).
/// </summary>
internal static class ModelDeltaCorpus
{
    private const int TensorsPerFile = 8;

    /// <summary>The real pairs: base file, target file, what they are.</summary>
    private static readonly (string Base, string Target, string What)[] Pairs =
    [
        ("silero_vad_v5.safetensors", "silero_vad_v6.safetensors", "Silero VAD v5 -> v6 (retrained, F32)"),
        ("human_faceres.safetensors", "human_faceres-deep.safetensors", "faceres -> faceres-deep (F16 -> F32 checkpoints)"),
        ("faceapi_face_landmark_68_model.safetensors", "faceapi_face_expression_model.safetensors", "face-api landmarks -> expressions (U8 fine-tune)"),
        ("faceapi_face_landmark_68_model_dequant.safetensors", "faceapi_face_expression_model_dequant.safetensors", "the same, dequantised (F32)"),
    ];

    public static void SyntheticFiles(IReadOnlyList<(string Name, byte[] Current, byte[] Reference, DType DType)> checkpoints, CompressionEffort effort, int largeMib)
    {
        string dir = Directory.CreateTempSubdirectory("z4ai-delta-corpus-").FullName;
        try
        {
            Console.WriteLine($"Model files: each checkpoint above as a .safetensors file of {TensorsPerFile} tensors, stored against the previous checkpoint's file");
            Console.WriteLine();
            Console.WriteLine("| model file | target file | alone (.z4ai): ratio | zstd -19 of XOR: ratio | Z4Ai model delta: ratio, enc MB/s, dec MB/s | tensors |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
            foreach ((string name, byte[] current, byte[] reference, DType dtype) in checkpoints)
            {
                string basePath = Save(dir, "base", Split(reference, dtype));
                string targetPath = Save(dir, "target", Split(current, dtype));
                FileRow(name, basePath, targetPath, effort, dir);
            }

            if (largeMib > 0)
            {
                var random = new Random(7);
                var @base = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                var target = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                int tensorBytes = 16 << 20;
                for (int i = 0; i < Math.Max(1, largeMib / 16); i++)
                {
                    byte[] weights = Gaussian(tensorBytes / 2, random);
                    string tensor = $"model.layers.{i}.weight";
                    @base[tensor] = new Tensor(DType.BF16, [tensorBytes / 2 / 4096, 4096], weights);
                    target[tensor] = new Tensor(DType.BF16, [tensorBytes / 2 / 4096, 4096], DeltaCorpus.SparseSteps(weights, 0.01, random));
                }

                FileRow($"BF16 model, {largeMib} MiB in 16 MiB tensors, 1% step", Save(dir, "base", @base), Save(dir, "target", target), effort, dir);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static void RealPairs(string? data, CompressionEffort effort)
    {
        data ??= FindData();
        if (data is null)
        {
            Console.WriteLine("Real checkpoint pairs: skipped, no shared/data folder found above the working directory (pass --data DIR)");
            return;
        }

        string dir = Directory.CreateTempSubdirectory("z4ai-delta-corpus-").FullName;
        try
        {
            Console.WriteLine("Real checkpoint pairs from shared/data (zstd -19 of XOR: tensors with the same name, dtype and shape XORed, the rest raw, one zstd frame per tensor)");
            Console.WriteLine();
            Console.WriteLine("| pair | target file | alone (.z4ai): ratio | zstd -19 of XOR: ratio | Z4Ai model delta: ratio, enc MB/s, dec MB/s | tensors |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
            foreach ((string @base, string target, string what) in Pairs)
            {
                string basePath = Path.Combine(data, @base);
                string targetPath = Path.Combine(data, target);
                if (File.Exists(basePath) && File.Exists(targetPath))
                {
                    FileRow(what, basePath, targetPath, effort, dir);
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void FileRow(string name, string basePath, string targetPath, CompressionEffort effort, string dir)
    {
        long targetBytes = new FileInfo(targetPath).Length;
        double mb = targetBytes / 1e6;
        string alone = Path.Combine(dir, "alone.z4ai");
        Z4AiContainer.Compress(targetPath, alone, new SaveOptions { Effort = effort });
        long aloneBytes = new FileInfo(alone).Length;
        long xorBytes = ZstdOfXor(basePath, targetPath);

        string delta = Path.Combine(dir, "delta.z4delta");
        string restored = Path.Combine(dir, "restored.safetensors");
        var sw = Stopwatch.StartNew();
        ModelDeltaReport report = DeltaCodec.CompressFile(targetPath, basePath, delta, new DeltaOptions { Effort = effort });
        double encode = sw.Elapsed.TotalSeconds;
        TimeSpan cpu = CpuTime();
        sw.Restart();
        DeltaCodec.DecompressFile(delta, basePath, restored);
        double decode = sw.Elapsed.TotalSeconds;
        double decodeCpu = (CpuTime() - cpu).TotalSeconds;
        if (!File.ReadAllBytes(restored).AsSpan().SequenceEqual(File.ReadAllBytes(targetPath)))
        {
            throw new InvalidOperationException($"{name}: the model delta did not restore the target");
        }

        Console.WriteLine(
            $"| {name} | {targetBytes / 1e6:F1} MB | {DeltaCorpus.Ratio(targetBytes, aloneBytes)} | {DeltaCorpus.Ratio(targetBytes, xorBytes)} "
            + $"| **{DeltaCorpus.Ratio(targetBytes, report.OutputBytes)}**, {mb / encode:F0}, {mb / decode:F0} ({mb / decodeCpu:F0} per CPU-s) "
            + $"| {report.CountTensors(ModelDeltaTensorMode.Copy)} copy, {report.CountTensors(ModelDeltaTensorMode.Delta)} delta, {report.CountTensors(ModelDeltaTensorMode.Scratch)} scratch |");
        File.Delete(delta);
        File.Delete(restored);
        File.Delete(alone);
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    // zstd -19 per target tensor of its XOR with the base tensor of the same name, dtype and shape, or of the raw
    // bytes when there is none; plus the file's header raw.
    private static long ZstdOfXor(string basePath, string targetPath)
    {
        IReadOnlyDictionary<string, Tensor> @base = SafeTensorsCompat.LoadFile(basePath);
        using SafeTensorsReader target = SafeTensorsCompat.Open(targetPath);
        long total = new FileInfo(targetPath).Length - target.Tensors.Sum(t => t.ByteLength);
        foreach (TensorInfo info in target.Tensors)
        {
            byte[] bytes = target.GetTensor(info.Name).Data.ToArray();
            if (@base.TryGetValue(info.Name, out Tensor? b) && b.DType == info.DType && b.Shape.SequenceEqual(info.Shape))
            {
                ReadOnlySpan<byte> other = b.Data.Span;
                for (int i = 0; i < bytes.Length; i++)
                {
                    bytes[i] ^= other[i];
                }
            }

            byte[] compressed = new byte[ZstdBackend.GetMaxCompressedLength(bytes.Length)];
            total += bytes.Length == 0 ? 0 : Math.Min(bytes.Length, ZstdBackend.Compress(bytes, compressed, 19));
        }

        return total;
    }

    private static Dictionary<string, Tensor> Split(byte[] bytes, DType dtype)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        int part = bytes.Length / TensorsPerFile;
        int elementSize = dtype.ElementSize();
        for (int i = 0; i < TensorsPerFile; i++)
        {
            tensors[$"model.layers.{i}.weight"] = new Tensor(dtype, [part / elementSize], bytes.AsMemory(i * part, part));
        }

        return tensors;
    }

    private static string Save(string dir, string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        string path = Path.Combine(dir, name + ".safetensors");
        SafeTensorsCompat.SaveFile(tensors, path, options: new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    private static byte[] Gaussian(int count, Random random)
    {
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = DeltaCorpus.Gaussian(random) * 0.02f;
        }

        return DeltaCorpus.ToBf16(values);
    }

    internal static string? FindData()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "data");
                if (File.Exists(Path.Combine(candidate, Pairs[0].Base)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
