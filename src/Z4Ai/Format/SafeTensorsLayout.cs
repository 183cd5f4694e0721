namespace Z4Ai.Format;

/// <summary>One tensor to place in a safetensors file: what the header will say plus the payload length.</summary>
/// <param name="Name">The tensor name; must not be <c>__metadata__</c>.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions (non-negative); empty for a scalar.</param>
/// <param name="ByteLength">The payload length; must equal the dtype's bit size times the element count, over 8.</param>
internal readonly record struct SafeTensorsLayoutInput(string Name, DType DType, long[] Shape, long ByteLength);

/// <summary>
/// The canonical placement of a set of tensors in a safetensors file, as the reference writer produces it: the
/// exact header bytes (length prefix, compact JSON, space padding) and each tensor's offsets in the data section.
/// </summary>
internal sealed class SafeTensorsLayout
{
    internal SafeTensorsLayout(byte[] headerBytes, SafeTensorsEntry[] tensors, long dataLength)
    {
        HeaderBytes = headerBytes;
        Tensors = tensors;
        DataLength = dataLength;
    }

    /// <summary>The 8-byte little-endian length prefix followed by the padded JSON: write this, then the data.</summary>
    public byte[] HeaderBytes { get; }

    /// <summary>The tensors in canonical (file) order with their offsets.</summary>
    public IReadOnlyList<SafeTensorsEntry> Tensors { get; }

    /// <summary>The byte length of the data section.</summary>
    public long DataLength { get; }

    /// <summary>The byte length of the whole file.</summary>
    public long TotalLength => HeaderBytes.Length + DataLength;
}
