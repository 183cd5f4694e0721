using System.Text;

namespace Z4Ai.Fuzz;

/// <summary>Writes valid inputs for every target (the starting corpus): small files made by the library itself.</summary>
internal static class FuzzSeeds
{
    public static void Write(FuzzTargets targets, string root)
    {
        Dictionary<string, Tensor> model = FuzzModels.Base();
        Dictionary<string, Tensor> fineTune = FuzzModels.FineTune();
        string work = Path.Combine(targets.ScratchDirectory, "seeds");
        Directory.CreateDirectory(work);
        string targetPath = Path.Combine(work, "target.safetensors");
        SafeTensorsCompat.SaveFile(fineTune, targetPath, FuzzModels.Metadata(), new SaveOptions { Format = StorageFormat.SafeTensors });

        Put(root, "safetensors", "base.safetensors", File.ReadAllBytes(targets.BasePath));
        Put(root, "safetensors", "nometadata.safetensors", SafeTensorsCompat.Save(model, options: new SaveOptions { Format = StorageFormat.SafeTensors }));

        foreach (CompressionEffort effort in Enum.GetValues<CompressionEffort>())
        {
            Put(root, "container", $"base-{effort}.z4ai", SafeTensorsCompat.Save(model, FuzzModels.Metadata(), new SaveOptions { Effort = effort }));
        }

        using (var container = new MemoryStream())
        using (FileStream plain = File.OpenRead(targetPath))
        {
            Z4AiContainer.Compress(plain, container);
            Put(root, "container", "target-restorable.z4ai", container.ToArray());
        }

        foreach ((string name, Tensor tensor) in model)
        {
            if (tensor.Data.Length > 0)
            {
                Put(root, "codec", name + ".frame", Z4AiCodec.Compress(tensor, new CodecOptions { ChunkSize = 4096 }));
            }
        }

        Put(root, "codec", "fast.frame", Z4AiCodec.Compress(FuzzModels.DeltaReference, DType.BF16, new CodecOptions { Effort = CompressionEffort.Fast }));
        Put(root, "codec", "max.frame", Z4AiCodec.Compress(FuzzModels.DeltaReference, DType.BF16, new CodecOptions { Effort = CompressionEffort.Max }));

        Put(root, "delta", "chunked.delta", DeltaCodec.Compress(FuzzModels.DeltaCurrent(), FuzzModels.DeltaReference, DType.BF16, new DeltaOptions { ChunkSize = 256 }));
        Put(root, "delta", "whole.delta", DeltaCodec.Compress(FuzzModels.DeltaCurrent(), FuzzModels.DeltaReference, DType.BF16));
        Put(root, "delta", "same.delta", DeltaCodec.Compress(FuzzModels.DeltaReference, FuzzModels.DeltaReference, DType.BF16));

        string modelDelta = Path.Combine(work, "target.z4delta");
        DeltaCodec.CompressFile(targetPath, targets.BasePath, modelDelta, new DeltaOptions { ChunkSize = 64 });
        Put(root, "z4delta", "target.z4delta", File.ReadAllBytes(modelDelta));

        string lossy = Path.Combine(work, "target.z4al");
        LossyDelta.Compress(targetPath, targets.BasePath, lossy, new LossyOptions { MinElements = 16 });
        Put(root, "z4al", "int8.z4al", File.ReadAllBytes(lossy));
        LossyDelta.Compress(targetPath, targets.BasePath, lossy, new LossyOptions { MinElements = 16, Tier = LossyTier.Int4 });
        Put(root, "z4al", "int4.z4al", File.ReadAllBytes(lossy));

        string store = Path.Combine(work, "registry");
        ModelRegistry registry = ModelRegistry.Init(new LocalBlobStore(store), targets.BasePath, "base");
        registry.Add(targetPath, "fine-tune", "base");
        foreach (string file in Directory.EnumerateFiles(store, "*.json", SearchOption.AllDirectories))
        {
            Put(root, "manifest", Path.GetFileName(file), File.ReadAllBytes(file));
        }

        byte[] text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 20)));
        Put(root, "archive", "prose.z4arc", ArchiveCodec.Compress(text));
        Put(root, "archive", "binary.z4arc", ArchiveCodec.Compress(File.ReadAllBytes(targets.BasePath), new ArchiveOptions { Preset = ArchivePreset.Binary, BlockSize = 512 }));
        Put(root, "archive", "json.z4arc", ArchiveCodec.Compress(File.ReadAllBytes(Directory.EnumerateFiles(store, "*.json", SearchOption.AllDirectories).First())));
    }

    private static void Put(string root, string target, string name, byte[] bytes)
    {
        string dir = Path.Combine(root, target);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name), bytes);
    }
}
