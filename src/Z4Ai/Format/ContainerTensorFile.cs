namespace Z4Ai.Format;

/// <summary>A <c>.z4ai</c> container behind the <see cref="TensorFile"/> surface; every whole tensor is verified.</summary>
internal sealed class ContainerTensorFile : TensorFile
{
    private readonly ContainerReader _reader;
    private readonly TensorInfo[] _tensors;
    private readonly Dictionary<string, TensorInfo> _index;

    public ContainerTensorFile(ContainerReader reader)
    {
        _reader = reader;
        _tensors = new TensorInfo[reader.Tensors.Count];
        _index = new Dictionary<string, TensorInfo>(_tensors.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tensors.Length; i++)
        {
            ContainerEntry e = reader.Tensors[i];
            var info = new TensorInfo(e.Name, e.DType, e.Shape, e.RawLength);
            _tensors[i] = info;
            _index[e.Name] = info;
        }
    }

    public ContainerReader Reader => _reader;

    public override StorageFormat Format => StorageFormat.Z4Ai;

    public override string? FilePath => _reader.FilePath;

    public override IReadOnlyList<TensorInfo> Tensors => _tensors;

    public override IReadOnlyDictionary<string, string>? Metadata => _reader.Metadata;

    public override long BytesRead => _reader.BytesRead;

    protected override IReadOnlyDictionary<string, TensorInfo> Index => _index;

    public override byte[] ReadTensor(string name)
    {
        CheckArrayLength(GetInfo(name), FilePath);
        return _reader.ReadTensor(Entry(name));
    }

    public override void ReadRange(string name, long offset, Span<byte> destination)
    {
        CheckRange(GetInfo(name), offset, destination.Length);
        _reader.ReadRange(Entry(name), offset, destination);
    }

    public override void CopyTensorTo(string name, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        _reader.CopyTensorTo(Entry(name), destination, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _reader.Dispose();
        }
    }

    private ContainerEntry Entry(string name) =>
        _reader.TryGetTensor(name, out ContainerEntry? entry) ? entry : throw new Z4AiTensorNotFoundException(name, FilePath);
}
