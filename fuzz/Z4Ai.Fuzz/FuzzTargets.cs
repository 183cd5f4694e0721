using Z4Ai.Format;
using Z4Ai.Registry;

namespace Z4Ai.Fuzz;

/// <summary>
/// One fuzz target per reader. <see cref="Run"/> feeds arbitrary bytes through a reader; a
/// <see cref="Z4AiException"/> is the expected way to refuse bad input, and any other exception escapes and is a
/// crash (out-of-memory included: the fuzz script caps the GC heap, so an unbounded allocation surfaces as
/// <see cref="OutOfMemoryException"/>).
/// </summary>
internal sealed class FuzzTargets : IDisposable
{
    /// <summary>Every target name, in the order the script runs them.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["safetensors", "container", "codec", "delta", "z4delta", "z4al", "manifest", "archive"];

    private readonly string _dir;
    private readonly string _input;
    private readonly string _output;

    public FuzzTargets()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-fuzz-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_dir);
        BasePath = Path.Combine(_dir, "base.safetensors");
        SafeTensorsCompat.SaveFile(FuzzModels.Base(), BasePath, FuzzModels.Metadata(), new SaveOptions { Format = StorageFormat.SafeTensors });
        _input = Path.Combine(_dir, "input.bin");
        _output = Path.Combine(_dir, "output.safetensors");
    }

    /// <summary>The base model file the model-delta and lossy-delta targets rebuild against.</summary>
    public string BasePath { get; }

    /// <summary>A scratch folder that lives as long as this object.</summary>
    public string ScratchDirectory => _dir;

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; returns false when a Z4AiException refused it.</summary>
    public bool TryRun(string target, ReadOnlySpan<byte> input)
    {
        try
        {
            Run(target, input);
            return true;
        }
        catch (Z4AiException)
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>, letting every exception escape.</summary>
    public void Run(string target, ReadOnlySpan<byte> input)
    {
        switch (target)
        {
            case "safetensors": SafeTensors(input); break;
            case "container": Container(input); break;
            case "codec": Codec(input); break;
            case "delta": Delta(input); break;
            case "z4delta": ModelDelta(input); break;
            case "z4al": LossyDeltaFile(input); break;
            case "manifest": Manifest(input); break;
            case "archive": Archive(input); break;
            default: throw new ArgumentException($"unknown fuzz target '{target}'; expected one of {string.Join(", ", Names)}", nameof(target));
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void SafeTensors(ReadOnlySpan<byte> input)
    {
        byte[] bytes = input.ToArray();
        foreach (Tensor tensor in SafeTensorsCompat.Load(bytes).Values)
        {
            _ = tensor.ElementCount;
        }

        using var stream = new MemoryStream(bytes, writable: false);
        using SafeTensorsReader reader = SafeTensorsCompat.Open(stream);
        foreach (TensorInfo info in reader.Tensors)
        {
            _ = reader.GetTensor(info.Name);
            if (info.ByteLength > 0 && info.Shape.Count > 0)
            {
                _ = reader.GetSlice(info.Name, 0, 1);
            }
        }
    }

    private static void Container(ReadOnlySpan<byte> input)
    {
        using var stream = new MemoryStream(input.ToArray(), writable: false);
        using ContainerReader reader = ContainerReader.Open(stream, leaveOpen: true, displayName: "fuzz.z4ai");
        foreach (ContainerEntry entry in reader.Tensors)
        {
            _ = reader.ReadTensor(entry);
        }

        _ = reader.Verify();
        reader.RestoreSafeTensors(Stream.Null);
    }

    private static void Codec(ReadOnlySpan<byte> input)
    {
        _ = Z4AiCodec.Inspect(input);
        _ = Z4AiCodec.Decompress(input);
        using var stream = new MemoryStream(input.ToArray(), writable: false);
        _ = Z4AiCodec.Decompress(stream, Stream.Null);
    }

    private static void Delta(ReadOnlySpan<byte> input)
    {
        _ = DeltaCodec.Inspect(input);
        _ = DeltaCodec.GetDecompressedLength(input);
        _ = DeltaCodec.Decompress(input, FuzzModels.DeltaReference);
    }

    private void ModelDelta(ReadOnlySpan<byte> input)
    {
        File.WriteAllBytes(_input, input);
        _ = DeltaCodec.InspectFile(_input);
        DeltaCodec.DecompressFile(_input, BasePath, _output);
    }

    private void LossyDeltaFile(ReadOnlySpan<byte> input)
    {
        _ = LossyDelta.Inspect(input.ToArray());
        File.WriteAllBytes(_input, input);
        LossyDelta.Reconstruct(_input, BasePath, _output);
    }

    private static void Manifest(ReadOnlySpan<byte> input)
    {
        byte[] bytes = input.ToArray();
        try
        {
            _ = ManifestJson.Parse(bytes, expectedName: null, displayName: "fuzz/manifest");
        }
        catch (Z4AiException)
        {
            // Not a manifest: it may be the registry's root record, the other record the same envelope carries.
            _ = RootRecord.Parse(bytes, "fuzz/registry.json");
        }
    }

    private static void Archive(ReadOnlySpan<byte> input)
    {
        _ = ArchiveCodec.Inspect(input);
        _ = ArchiveCodec.Decompress(input);
        using var stream = new MemoryStream(input.ToArray(), writable: false);
        ArchiveCodec.Decompress(stream, Stream.Null);
    }
}
