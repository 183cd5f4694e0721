namespace Z4Ai.Registry;

/// <summary>The opened inputs of one version, disposed together.</summary>
internal sealed class ModelSources(IReadOnlyList<SourceFile> files, ManifestIndex? index) : IDisposable
{
    public IReadOnlyList<SourceFile> Files { get; } = files;

    public ManifestIndex? Index { get; } = index;

    public void Dispose()
    {
        foreach (SourceFile file in Files)
        {
            file.Dispose();
        }
    }
}
