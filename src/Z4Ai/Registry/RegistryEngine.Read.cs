using Z4Ai.Format;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <content>Reading versions back: whole files, single tensors, sharded exports and lazy readers.</content>
internal sealed partial class RegistryEngine
{
    /// <summary>
    /// Restores a version as one safetensors file: byte for byte the file it was added from (checked against the
    /// file's recorded SHA-256), or, for a sharded version, one canonical file of all its tensors.
    /// </summary>
    public void Get(string name, string outputPath, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        Manifest manifest = ReadManifest(name, ct);
        using AtomicFile output = AtomicFile.Create(outputPath);
        var counter = new Progress(progress, "get", manifest.AllTensors.Sum(t => t.Length));
        if (manifest.Files.Length == 1)
        {
            WriteFile(manifest, manifest.Files[0], output.Stream, counter, ct);
        }
        else
        {
            WriteMerged(manifest, output.Stream, counter, ct);
        }

        output.Commit();
        RegistryTextFiles.Restore(manifest, Path.GetDirectoryName(Path.GetFullPath(outputPath))!, Access.Describe(RegistryLayout.ManifestKey(name)));
    }

    /// <summary>Writes every file of a version (and its sharding index) into <paramref name="directory"/>.</summary>
    /// <returns>The paths written.</returns>
    public List<string> Export(string name, string directory, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        Manifest manifest = ReadManifest(name, ct);
        Directory.CreateDirectory(directory);
        var counter = new Progress(progress, "export", manifest.AllTensors.Sum(t => t.Length));
        var written = new List<string>();
        foreach (ManifestFile file in manifest.Files)
        {
            string path = Path.Combine(directory, file.Path);
            using AtomicFile output = AtomicFile.Create(path);
            WriteFile(manifest, file, output.Stream, counter, ct);
            output.Commit();
            written.Add(path);
        }

        if (manifest.Index is not null)
        {
            string path = Path.Combine(directory, manifest.Index.Path);
            using AtomicFile output = AtomicFile.Create(path);
            output.Stream.Write(manifest.Index.Bytes);
            output.Commit();
            written.Add(path);
        }

        written.AddRange(RegistryTextFiles.Restore(manifest, directory, Access.Describe(RegistryLayout.ManifestKey(name))));
        return written;
    }

    /// <summary>Reads one tensor of a version, verified against its SHA-256.</summary>
    public Tensor GetTensor(string name, string tensorName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(tensorName);
        Manifest manifest = ReadManifest(name, ct);
        if (!manifest.TryGetTensor(tensorName, out ManifestTensor tensor))
        {
            throw new Z4AiTensorNotFoundException(tensorName, Access.Describe(RegistryLayout.ManifestKey(name)));
        }

        byte[] bytes = NewObjects().ReadWhole(tensor.Object, $"{name}: {tensor.Name}", cache: null, ct);
        return new Tensor(tensor.DType, tensor.Shape, bytes);
    }

    /// <summary>Opens a version for lazy, verified reads.</summary>
    public RegistryTensorFile Open(string name, CancellationToken ct) =>
        new(new ObjectStore(new StoreAccess(Access.Store)), ReadManifest(name, ct), Access.Describe(RegistryLayout.ManifestKey(name)));

    private void WriteFile(Manifest manifest, ManifestFile file, Stream output, Progress progress, CancellationToken ct)
    {
        ObjectStore objects = NewObjects();
        Sha256Digest actual;
        using (var hashing = new HashingStream(output))
        {
            hashing.Write(file.Header);
            foreach (ManifestTensor tensor in file.Tensors)
            {
                ct.ThrowIfCancellationRequested();
                objects.CopyTo(tensor.Object, hashing, $"{manifest.Name}: {tensor.Name}", ct);
                progress.Advance(tensor.Name, tensor.Length);
            }

            actual = new Sha256Digest(hashing.GetHashAndReset());
        }

        if (actual != file.Sha256)
        {
            throw new Z4AiIntegrityException(
                $"file '{file.Path}' of version '{manifest.Name}'", file.Sha256.ToString(), actual.ToString(), Access.Describe(RegistryLayout.ManifestKey(manifest.Name)));
        }
    }

    private void WriteMerged(Manifest manifest, Stream output, Progress progress, CancellationToken ct)
    {
        ObjectStore objects = NewObjects();
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
            manifest.ExposedTensors.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, t.Shape, t.Length)), manifest.Files[0].Metadata);
        output.Write(layout.HeaderBytes);
        foreach (SafeTensorsEntry entry in layout.Tensors)
        {
            ct.ThrowIfCancellationRequested();
            manifest.TryGetTensor(entry.Name, out ManifestTensor tensor);
            objects.CopyTo(tensor.Object, output, $"{manifest.Name}: {tensor.Name}", ct);
            progress.Advance(tensor.Name, tensor.Length);
        }
    }

    private sealed class Progress(IProgress<ProgressInfo>? sink, string stage, long total)
    {
        private long _done;

        public void Advance(string tensor, long bytes)
        {
            _done += bytes;
            sink?.Report(new ProgressInfo(stage, tensor, _done, total));
        }
    }
}
