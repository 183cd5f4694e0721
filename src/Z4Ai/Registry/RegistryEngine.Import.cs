namespace Z4Ai.Registry;

/// <content>Opening the inputs of a version: one safetensors file, or a sharded Hugging Face layout.</content>
internal sealed partial class RegistryEngine
{
    /// <summary>The index file name Hugging Face uses for sharded safetensors checkpoints.</summary>
    public const string DefaultIndexName = "model.safetensors.index.json";

    private const string IndexSuffix = ".safetensors.index.json";

    /// <summary>
    /// Opens the files of a model: a <c>.safetensors</c> (or <c>.z4ai</c>) file; a sharding index; or a directory
    /// holding one index (<see cref="DefaultIndexName"/> preferred) or exactly one safetensors file.
    /// </summary>
    /// <exception cref="Z4AiFormatException">The index is malformed, names a missing shard, or a tensor its shard lacks.</exception>
    public static ModelSources OpenSources(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            string[] indexes = Directory.GetFiles(path, "*" + IndexSuffix);
            string? preferred = indexes.FirstOrDefault(p => Path.GetFileName(p) == DefaultIndexName);
            if (preferred is not null || indexes.Length == 1)
            {
                return OpenSharded(preferred ?? indexes[0]);
            }

            if (indexes.Length > 1)
            {
                throw new ArgumentException($"{path} holds several sharding indexes ({string.Join(", ", indexes.Select(Path.GetFileName))}); name the one to use", nameof(path));
            }

            string[] files = Directory.GetFiles(path, "*.safetensors");
            if (files.Length != 1)
            {
                throw new ArgumentException($"{path} holds no sharding index and {files.Length} .safetensors files; name the file to use", nameof(path));
            }

            path = files[0];
        }
        else if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file or directory", path);
        }

        if (path.EndsWith(IndexSuffix, StringComparison.OrdinalIgnoreCase))
        {
            return OpenSharded(path);
        }

        string stored = Path.GetFileName(path);
        if (!SafeFileName.IsValid(stored))
        {
            stored = "model.safetensors";
        }

        return new ModelSources([SourceFile.Open(path, stored, exposed: null)], null);
    }

    private static ModelSources OpenSharded(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > ManifestJson.MaxIndexLength)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"the index is {info.Length} bytes, more than the {ManifestJson.MaxIndexLength} allowed", indexPath);
        }

        byte[] bytes = File.ReadAllBytes(indexPath);
        ShardIndex index = ShardIndex.Parse(bytes, indexPath);
        string directory = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var sources = new List<SourceFile>(index.Shards.Count);
        try
        {
            foreach (string shard in index.Shards)
            {
                string shardPath = Path.Combine(directory, shard);
                if (!File.Exists(shardPath))
                {
                    throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"the index names shard '{shard}', which does not exist", indexPath);
                }

                HashSet<string> assigned = index.TensorsOf(shard);
                SourceFile source = SourceFile.Open(shardPath, shard, assigned);
                sources.Add(source);
                foreach (string tensor in assigned)
                {
                    if (!source.File.TryGetInfo(tensor, out _))
                    {
                        throw new Z4AiFormatException(
                            Z4AiErrorKind.InvalidContainer, $"weight_map places it in '{shard}', which has no tensor of this name", indexPath, tensor);
                    }
                }
            }

            string indexName = Path.GetFileName(indexPath);
            return new ModelSources(sources, new ManifestIndex(SafeFileName.IsValid(indexName) ? indexName : DefaultIndexName, bytes));
        }
        catch
        {
            foreach (SourceFile source in sources)
            {
                source.Dispose();
            }

            throw;
        }
    }
}
