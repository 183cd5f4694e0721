using Z4Ai.Internal;

namespace Z4Ai.Format;

/// <summary>
/// Streams a safetensors file to an output: the layout's header bytes, then each tensor's payload in layout order.
/// Memory stays bounded by the largest payload the callback hands out, never by the model.
/// </summary>
internal static class SafeTensorsWriter
{
    /// <summary>Writes the header, then each tensor's bytes as returned by <paramref name="data"/>.</summary>
    /// <param name="output">The destination; it is not flushed or disposed.</param>
    /// <param name="layout">The layout from <see cref="SafeTensorsFormat.CreateLayout"/>.</param>
    /// <param name="data">Returns the payload of one tensor; called once per tensor, in file order.</param>
    /// <exception cref="Z4AiFormatException">InvalidTensorView when a payload's length differs from the layout.</exception>
    public static void Write(Stream output, SafeTensorsLayout layout, Func<SafeTensorsEntry, ReadOnlyMemory<byte>> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(data);
        output.Write(layout.HeaderBytes);
        foreach (SafeTensorsEntry entry in layout.Tensors)
        {
            ReadOnlyMemory<byte> bytes = data(entry);
            CheckLength(entry, bytes.Length);
            output.Write(bytes.Span);
        }
    }

    /// <summary>Asynchronously writes the header, then each tensor's bytes as returned by <paramref name="data"/>.</summary>
    /// <param name="output">The destination; it is not flushed or disposed.</param>
    /// <param name="layout">The layout from <see cref="SafeTensorsFormat.CreateLayout"/>.</param>
    /// <param name="data">Returns the payload of one tensor; called once per tensor, in file order.</param>
    /// <param name="cancellationToken">Cancels the write between and during payloads.</param>
    /// <exception cref="Z4AiFormatException">InvalidTensorView when a payload's length differs from the layout.</exception>
    public static async ValueTask WriteAsync(
        Stream output,
        SafeTensorsLayout layout,
        Func<SafeTensorsEntry, ReadOnlyMemory<byte>> data,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(data);
        await output.WriteAsync(layout.HeaderBytes, cancellationToken).ConfigureAwait(false);
        foreach (SafeTensorsEntry entry in layout.Tensors)
        {
            ReadOnlyMemory<byte> bytes = data(entry);
            CheckLength(entry, bytes.Length);
            await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void CheckLength(SafeTensorsEntry entry, int length)
    {
        // Writing a short or long payload would shift every later tensor and produce a file that fails to parse.
        if (length != entry.Length)
        {
            ThrowHelper.Format(
                Z4AiErrorKind.InvalidTensorView,
                $"{entry.DType.GetName()}[{string.Join(",", entry.Shape)}] needs {entry.Length} bytes, but {length} were given",
                tensorName: entry.Name);
        }
    }
}
