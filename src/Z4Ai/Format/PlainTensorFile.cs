namespace Z4Ai.Format;

/// <summary>A plain safetensors file read lazily with positional reads; it carries no digests to verify.</summary>
internal sealed class PlainTensorFile : TensorFile
{
    private const int CopyBufferSize = 1 << 20;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly SafeTensorsHeader _header;
    private readonly TensorInfo[] _tensors;
    private readonly Dictionary<string, TensorInfo> _index;
    private readonly Dictionary<string, SafeTensorsEntry> _entries;
    private readonly Lock _gate = new();
    private long _bytesRead;

    public PlainTensorFile(Stream stream, bool leaveOpen, string? displayName, ReadLimits? limits = null)
    {
        limits ??= ReadLimits.Default;
        _stream = stream;
        _leaveOpen = leaveOpen;
        FilePath = displayName;
        _header = SafeTensorsFormat.ReadHeader(stream, limits.MaxHeaderBytes);
        if (_header.Tensors.Count > limits.MaxTensorCount)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.LimitExceeded, $"the header declares {_header.Tensors.Count} tensors, more than the read limit of {limits.MaxTensorCount}", displayName, offset: 0);
        }

        _bytesRead = _header.DataOffset;
        _tensors = new TensorInfo[_header.Tensors.Count];
        _index = new Dictionary<string, TensorInfo>(_tensors.Length, StringComparer.Ordinal);
        _entries = new Dictionary<string, SafeTensorsEntry>(_tensors.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tensors.Length; i++)
        {
            SafeTensorsEntry e = _header.Tensors[i];
            var info = new TensorInfo(e.Name, e.DType, e.Shape, e.Length);
            _tensors[i] = info;
            _index[e.Name] = info;
            _entries[e.Name] = e;
        }
    }

    public SafeTensorsHeader Header => _header;

    public override StorageFormat Format => StorageFormat.SafeTensors;

    public override string? FilePath { get; }

    public override IReadOnlyList<TensorInfo> Tensors => _tensors;

    public override IReadOnlyDictionary<string, string>? Metadata => _header.Metadata;

    public override long BytesRead => Interlocked.Read(ref _bytesRead);

    protected override IReadOnlyDictionary<string, TensorInfo> Index => _index;

    public override byte[] ReadTensor(string name)
    {
        TensorInfo info = GetInfo(name);
        CheckArrayLength(info, FilePath);
        byte[] data = GC.AllocateUninitializedArray<byte>((int)info.ByteLength);
        ReadAt(_header.DataOffset + _entries[name].Begin, data, name);
        return data;
    }

    public override void ReadRange(string name, long offset, Span<byte> destination)
    {
        TensorInfo info = GetInfo(name);
        CheckRange(info, offset, destination.Length);
        ReadAt(_header.DataOffset + _entries[name].Begin + offset, destination, name);
    }

    public override void CopyTensorTo(string name, Stream destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        TensorInfo info = GetInfo(name);
        long position = _header.DataOffset + _entries[name].Begin;
        long remaining = info.ByteLength;
        byte[] buffer = new byte[(int)Math.Min(CopyBufferSize, Math.Max(1, remaining))];
        while (remaining > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(buffer.Length, remaining);
            ReadAt(position, buffer.AsSpan(0, n), name);
            destination.Write(buffer, 0, n);
            position += n;
            remaining -= n;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private void ReadAt(long position, Span<byte> destination, string tensorName)
    {
        lock (_gate)
        {
            _stream.Position = position;
            int read = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            _bytesRead += read;
            if (read != destination.Length)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.MetadataIncompleteBuffer,
                    $"the file ended after {read} of {destination.Length} bytes; it was truncated after it was opened",
                    FilePath,
                    tensorName,
                    position + read);
            }
        }
    }
}
