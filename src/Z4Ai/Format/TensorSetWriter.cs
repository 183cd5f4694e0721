namespace Z4Ai.Format;

/// <summary>Writes an in-memory set of tensors as plain safetensors or as a container, in canonical order.</summary>
internal static class TensorSetWriter
{
    public static void Write(
        IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata,
        SaveOptions options,
        Stream output,
        CancellationToken cancellationToken)
    {
        var inputs = new List<SafeTensorsLayoutInput>(tensors.Count);
        foreach ((string name, Tensor tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            inputs.Add(new SafeTensorsLayoutInput(name, tensor.DType, tensor.GetShape(), tensor.Data.Length));
        }

        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(inputs, metadata);
        if (options.Format == StorageFormat.SafeTensors)
        {
            output.Write(layout.HeaderBytes);
            foreach (SafeTensorsEntry entry in layout.Tensors)
            {
                cancellationToken.ThrowIfCancellationRequested();
                output.Write(tensors[entry.Name].Data.Span);
            }

            return;
        }

        using var writer = new ContainerWriter(output, ToContainerOptions(options));
        foreach (SafeTensorsEntry entry in layout.Tensors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Tensor tensor = tensors[entry.Name];
            writer.WriteTensor(entry.Name, tensor.DType, entry.Shape, tensor.Data.Span);
        }

        writer.Complete(layout.HeaderBytes, metadata);
    }

    public static ContainerWriterOptions ToContainerOptions(SaveOptions options) => new()
    {
        Effort = options.Effort,
        ChunkSize = options.ChunkSize,
        MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
    };
}
