namespace Z4Ai.Format;

/// <summary>
/// Applies a model delta, or a chain of them, to a base model file and writes the target's safetensors file. Every
/// link is checked against the model below it before a byte is written; then the top link is restored tensor by
/// tensor, each lower link rebuilding only the base bytes the link above asks for.
/// </summary>
internal static class ModelDeltaRestore
{
    /// <summary>Restores the model that <paramref name="deltas"/> (oldest first) build on <paramref name="rootBase"/>.</summary>
    /// <exception cref="Z4AiFormatException">A file is malformed, or (kind <see cref="Z4AiErrorKind.ReferenceMismatch"/>)
    /// the base or a link of the chain is not the model the next link was made against.</exception>
    /// <exception cref="Z4AiIntegrityException">A rebuilt tensor fails its SHA-256.</exception>
    public static void Restore(
        IReadOnlyList<string> deltas,
        string rootBase,
        Stream output,
        int parallelism,
        IProgress<ProgressInfo>? progress,
        CancellationToken cancellationToken)
    {
        // Open and validate every link first: a damaged or foreign file fails before the base is hashed.
        var readers = new List<ModelDeltaReader?>(deltas.Count);
        ModelDeltaSource? source = null;
        try
        {
            foreach (string path in deltas)
            {
                readers.Add(ModelDeltaReader.Open(path));
            }

            source = ModelDeltaFileSource.Open(rootBase, "hash base", parallelism, progress, cancellationToken);
            for (int k = 0; k < readers.Count; k++)
            {
                if (k == 0)
                {
                    ModelDeltaLinkSource.CheckBase(readers[0]!, source, deltas.Count == 1 ? "wrong base: the delta" : "wrong base: link 1 of the chain", "the base");
                }
                else
                {
                    ModelDeltaLinkSource.CheckBase(readers[k]!, source, $"broken chain: link {k + 1}", $"the model link {k} rebuilds");
                }

                // The link now owns the reader and everything below it.
                source = new ModelDeltaLinkSource(readers[k]!, source);
                readers[k] = null;
            }

            ((ModelDeltaLinkSource)source).Restore(output, parallelism, progress, cancellationToken);
        }
        finally
        {
            source?.Dispose();
            foreach (ModelDeltaReader? reader in readers)
            {
                reader?.Dispose();
            }
        }
    }
}
