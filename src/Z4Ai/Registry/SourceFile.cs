using Z4Ai.Format;

namespace Z4Ai.Registry;

/// <summary>
/// One input file of a version being added: the tensors in data order, the exact header bytes that precede them
/// (so the file restores byte for byte), and which tensors a reader may ask for by name.
/// </summary>
internal sealed class SourceFile : IDisposable
{
    private readonly HashSet<string>? _exposed;

    private SourceFile(string storedName, TensorFile file, byte[] header, IReadOnlyList<TensorInfo> tensors, HashSet<string>? exposed)
    {
        StoredName = storedName;
        File = file;
        Header = header;
        Tensors = tensors;
        _exposed = exposed;
    }

    /// <summary>The file's name inside the version.</summary>
    public string StoredName { get; }

    public TensorFile File { get; }

    public byte[] Header { get; }

    public IReadOnlyList<TensorInfo> Tensors { get; }

    public long DataBytes => Tensors.Sum(t => t.ByteLength);

    /// <summary>
    /// Opens a plain safetensors file (its header bytes are kept verbatim) or a container (its kept original header,
    /// or the canonical header of its tensors when it has none).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="storedName">Its name inside the version.</param>
    /// <param name="exposed">The tensors readers may ask for by name; null for all.</param>
    public static SourceFile Open(string path, string storedName, HashSet<string>? exposed)
    {
        TensorFile file = TensorFile.Open(path);
        try
        {
            byte[] header;
            IReadOnlyList<TensorInfo> tensors;
            switch (file)
            {
                case PlainTensorFile plain:
                    header = new byte[plain.Header.DataOffset];
                    using (FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read))
                    {
                        stream.ReadExactly(header);
                    }

                    break;
                case ContainerTensorFile container when container.Reader.OriginalHeader is byte[] original:
                    header = original;
                    break;
                default:
                    SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(
                        file.Tensors.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, t.Shape.ToArray(), t.ByteLength)), file.Metadata);
                    header = layout.HeaderBytes;
                    break;
            }

            // The data order is the order a safetensors reader sees (by offsets, then name for the empty tensors that
            // share an offset); manifests record exactly that order, and restoring writes it.
            long total = header.Length + file.Tensors.Sum(t => t.ByteLength);
            SafeTensorsHeader parsed = SafeTensorsFormat.ParseHeader(header.AsSpan(8), total);
            tensors = parsed.Tensors.Select(e => file.GetInfo(e.Name)).ToArray();

            return new SourceFile(storedName, file, header, tensors, exposed);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public bool IsExposed(string tensor) => _exposed is null || _exposed.Contains(tensor);

    public void Dispose() => File.Dispose();
}
