using Z4Ai.Format;

namespace Z4Ai.Registry;

/// <summary>
/// A registry version behind the <see cref="TensorFile"/> surface, so <see cref="SafeTensorsReader"/> reads it like
/// any file: whole tensors are decoded and SHA-256 verified on demand, slices of scratch objects decode only the
/// chunks they cover, and the last decoded delta tensor is kept so repeated slices of it decode once.
/// </summary>
internal sealed class RegistryTensorFile : TensorFile
{
    private readonly ObjectStore _objects;
    private readonly Manifest _manifest;
    private readonly TensorInfo[] _tensors;
    private readonly Dictionary<string, TensorInfo> _index;
    private readonly DecodedCache _cache = new();

    public RegistryTensorFile(ObjectStore objects, Manifest manifest, string displayName)
    {
        _objects = objects;
        _manifest = manifest;
        FilePath = displayName;
        _tensors = manifest.ExposedTensors.Select(t => new TensorInfo(t.Name, t.DType, t.Shape, t.Length)).ToArray();
        _index = _tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public override StorageFormat Format => StorageFormat.Z4Ai;

    /// <summary>The manifest's SHA-256 of every exposed tensor, lowercase hex, for callers that verify themselves.</summary>
    public IReadOnlyDictionary<string, string> GetDigests() =>
        _manifest.ExposedTensors.ToDictionary(t => t.Name, t => t.Sha256.ToString(), StringComparer.Ordinal);

    public override string? FilePath { get; }

    public override IReadOnlyList<TensorInfo> Tensors => _tensors;

    public override IReadOnlyDictionary<string, string>? Metadata => _manifest.Files[0].Metadata;

    public override long BytesRead => _objects.Access.BytesRead;

    protected override IReadOnlyDictionary<string, TensorInfo> Index => _index;

    public override byte[] ReadTensor(string name)
    {
        ManifestTensor tensor = Find(name);
        CheckArrayLength(GetInfo(name), FilePath);
        return _objects.ReadWhole(tensor.Object, Subject(tensor), cache: null, CancellationToken.None);
    }

    public override void ReadRange(string name, long offset, Span<byte> destination)
    {
        ManifestTensor tensor = Find(name);
        CheckRange(GetInfo(name), offset, destination.Length);
        _objects.ReadRange(tensor.Object, offset, destination, Subject(tensor), _cache, CancellationToken.None);
    }

    public override void CopyTensorTo(string name, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ManifestTensor tensor = Find(name);
        _objects.CopyTo(tensor.Object, destination, Subject(tensor), cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cache.Clear();
        }
    }

    private ManifestTensor Find(string name) =>
        _manifest.TryGetTensor(name, out ManifestTensor tensor) ? tensor : throw new Z4AiTensorNotFoundException(name, FilePath);

    private string Subject(ManifestTensor tensor) => $"{_manifest.Name}: {tensor.Name}";
}
