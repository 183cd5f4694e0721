namespace Z4Ai.Archival;

/// <summary>
/// Hands out models ready to code a block: fresh, or trained on a primer. Training on a primer costs as much as
/// coding it, so a primed model of moderate size is kept (per descriptor and primer) and cloned for later
/// blocks and calls; the clone is bit-for-bit the state priming would produce, so caching never changes output.
/// </summary>
internal static class PrimedModels
{
    // Snapshots larger than this are not kept: their priming cost is small next to the data they code.
    private const long MaxSnapshotBytes = 48L << 20;
    private const int MaxEntries = 4;

    private static readonly Lock Gate = new();
    private static readonly List<(string Key, ISymbolModel Model)> Cache = [];

    /// <summary>A model for <paramref name="descriptor"/>, primed with <paramref name="primer"/> when given.</summary>
    /// <param name="descriptor">A validated model descriptor.</param>
    /// <param name="primer">The primer, or null.</param>
    /// <param name="dataCapacity">The longest block the model will code.</param>
    public static ISymbolModel Get(ModelDescriptor descriptor, Primer? primer, int dataCapacity)
    {
        int primerLength = primer?.Bytes.Length ?? 0;
        if (primer is null)
        {
            return SymbolModels.Create(descriptor, dataCapacity);
        }

        string key = $"{descriptor.Id}.{descriptor.Version}.{Convert.ToHexString(descriptor.Settings)}/{primer.FullName}";
        lock (Gate)
        {
            foreach ((string k, ISymbolModel m) in Cache)
            {
                if (k == key)
                {
                    return m.Clone();
                }
            }
        }

        ISymbolModel model = SymbolModels.Create(descriptor, primerLength + dataCapacity);
        model.Learn(primer.Bytes);
        if (EstimateBytes(descriptor) <= MaxSnapshotBytes)
        {
            ISymbolModel snapshot = model.Clone();
            lock (Gate)
            {
                if (Cache.Count >= MaxEntries)
                {
                    Cache.RemoveAt(0);
                }

                Cache.Add((key, snapshot));
            }
        }

        return model;
    }

    private static long EstimateBytes(ModelDescriptor descriptor)
    {
        if (descriptor.Id != ContextMixModel.ModelId)
        {
            return 1L << 20;
        }

        ContextMixSettings settings = ContextMixSettings.Read(descriptor.Settings);
        return (1L << settings.TableBits) + (4L << settings.MatchBits) + (9L << 20);
    }
}
