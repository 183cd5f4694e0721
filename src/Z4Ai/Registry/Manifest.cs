using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>One tensor of a version: what it is and which object holds its bytes.</summary>
internal sealed record ManifestTensor(
    string Name,
    DType DType,
    long[] Shape,
    long Length,
    Sha256Digest Sha256,
    Sha256Digest Object,
    TensorStorage Storage,
    Sha256Digest? Reference,
    int Depth,
    long StoredBytes,
    bool Hidden)
{
    /// <summary>For a tensor of a lossy version: its tier, the target's digest and the error (docs/registry-format.md, 3.3).</summary>
    public ManifestLossyTensor? Lossy { get; init; }
}

/// <summary>
/// One safetensors file of a version: its name, its original header bytes (length prefix plus JSON, kept so the
/// file restores byte for byte), the SHA-256 of the whole file, and its tensors in data order.
/// </summary>
internal sealed class ManifestFile
{
    public ManifestFile(string path, byte[] header, Sha256Digest sha256, ManifestTensor[] tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        Path = path;
        Header = header;
        Sha256 = sha256;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>The SHA-256 of the whole file (header then tensors), checked when the file is restored.</summary>
    public Sha256Digest Sha256 { get; }

    public byte[] Header { get; }

    public ManifestTensor[] Tensors { get; }

    /// <summary>The <c>__metadata__</c> of the header (derived from it, not stored twice).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    public long LogicalBytes => Header.Length + Tensors.Sum(t => t.Length);
}

/// <summary>The sharding index a version was imported from, kept byte for byte for export.</summary>
internal sealed record ManifestIndex(string Path, byte[] Bytes);

/// <summary>A version of the model family: lineage, tier and files (docs/registry-format.md, section 3).</summary>
internal sealed class Manifest
{
    /// <summary>The tier of versions that restore byte for byte; lossy versions name their tier (int8, int4, sparse, 1bit).</summary>
    public const string LosslessTier = "lossless";

    private Dictionary<string, ManifestTensor>? _exposed;

    public Manifest(string name, string? parent, string baseName, DateTimeOffset created, string tier, ManifestIndex? index, ManifestFile[] files)
    {
        Name = name;
        Parent = parent;
        Base = baseName;
        Created = created;
        Tier = tier;
        Index = index;
        Files = files;
    }

    public string Name { get; }

    public string? Parent { get; }

    public string Base { get; }

    public DateTimeOffset Created { get; }

    public string Tier { get; }

    /// <summary>The text files kept with the version, archive-coded (<see cref="RegistryTextFiles"/>).</summary>
    public ManifestText[] Texts { get; init; } = [];

    public ManifestIndex? Index { get; }

    public ManifestFile[] Files { get; }

    /// <summary>A lossy version's settings and identities; null for a lossless version.</summary>
    public ManifestLossy? Lossy { get; init; }

    /// <summary>The certificate the version was published with (lossy versions only; null when forced without one).</summary>
    public ManifestCertificate? Certificate { get; init; }

    public bool IsLossy => Lossy is not null;

    /// <summary>The size of the manifest blob, when it was read from a store.</summary>
    public long ManifestBytes { get; init; }

    public bool IsBase => Parent is null;

    /// <summary>Tensors a reader can ask for by name, in file order (hidden shard extras excluded).</summary>
    public IEnumerable<ManifestTensor> ExposedTensors => Files.SelectMany(f => f.Tensors).Where(t => !t.Hidden);

    public IEnumerable<ManifestTensor> AllTensors => Files.SelectMany(f => f.Tensors);

    public long LogicalBytes => Files.Sum(f => f.LogicalBytes) + (Index?.Bytes.Length ?? 0);

    /// <summary>Bytes of the objects this version created.</summary>
    public long StoredBytes => AllTensors.Sum(t => t.StoredBytes);

    public bool TryGetTensor(string name, out ManifestTensor tensor)
    {
        _exposed ??= ExposedTensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        return _exposed.TryGetValue(name, out tensor!);
    }

    /// <summary>Finds the tensor a delta of <paramref name="file"/>/<paramref name="name"/> should be made against.</summary>
    public ManifestTensor? FindCounterpart(string file, string name, bool hidden)
    {
        if (!hidden && TryGetTensor(name, out ManifestTensor exposed))
        {
            return exposed;
        }

        foreach (ManifestFile f in Files)
        {
            if (f.Path == file)
            {
                return f.Tensors.FirstOrDefault(t => t.Name == name);
            }
        }

        return null;
    }
}
