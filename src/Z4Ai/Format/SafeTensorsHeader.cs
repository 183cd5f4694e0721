using System.Diagnostics.CodeAnalysis;

namespace Z4Ai.Format;

/// <summary>
/// A parsed and fully validated safetensors header: the tensors in file order, the free-form metadata, and where
/// the data section starts and ends. Instances only come out of <see cref="SafeTensorsFormat"/>, so every entry is
/// known to tile the data section exactly.
/// </summary>
internal sealed class SafeTensorsHeader
{
    private readonly SafeTensorsEntry[] _tensors;
    private readonly Dictionary<string, int> _index;

    internal SafeTensorsHeader(
        SafeTensorsEntry[] tensors,
        Dictionary<string, int> index,
        IReadOnlyDictionary<string, string>? metadata,
        long headerLength,
        long dataLength)
    {
        _tensors = tensors;
        _index = index;
        Metadata = metadata;
        HeaderLength = headerLength;
        DataLength = dataLength;
    }

    /// <summary>The tensors in offset (file) order.</summary>
    public IReadOnlyList<SafeTensorsEntry> Tensors => _tensors;

    /// <summary>The <c>__metadata__</c> map, or null when the header has none or has <c>"__metadata__": null</c>.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>N, the byte length of the JSON header including its padding.</summary>
    public long HeaderLength { get; }

    /// <summary>The file offset of the data section, <c>8 + N</c>.</summary>
    public long DataOffset => 8 + HeaderLength;

    /// <summary>The byte length of the data section: the last tensor's end, or 0 without tensors.</summary>
    public long DataLength { get; }

    /// <summary>The whole file length this header describes.</summary>
    public long TotalLength => DataOffset + DataLength;

    /// <summary>Looks a tensor up by its exact (ordinal) name.</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out SafeTensorsEntry? entry)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_index.TryGetValue(name, out int i))
        {
            entry = _tensors[i];
            return true;
        }

        entry = null;
        return false;
    }

    /// <summary>Looks a tensor up by name, throwing <see cref="Z4AiTensorNotFoundException"/> when it is absent.</summary>
    public SafeTensorsEntry GetTensor(string name) =>
        TryGetTensor(name, out SafeTensorsEntry? entry) ? entry : throw new Z4AiTensorNotFoundException(name);
}
