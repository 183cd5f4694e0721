// QuickStart: the drop-in safetensors API over a compressed, verified container.
// Run: dotnet run --project examples/QuickStart
using Z4Ai;

string dir = Path.Combine(Path.GetTempPath(), "z4ai-quickstart");
Directory.CreateDirectory(dir);
string path = Path.Combine(dir, "model.z4ai");

// 1. Make two tensors: a bf16 weight matrix and an fp32 bias.
var random = new Random(42);
ushort[] weight = new ushort[256 * 128];
for (int i = 0; i < weight.Length; i++)
{
    float value = (float)(random.NextDouble() - 0.5) * 0.1f;
    weight[i] = (ushort)(BitConverter.SingleToInt32Bits(value) >> 16); // truncate to bf16
}

var tensors = new Dictionary<string, Tensor>
{
    ["layer.weight"] = Tensor.FromArray<ushort>(DType.BF16, [256, 128], weight),
    ["layer.bias"] = Tensor.FromArray<float>(DType.F32, [128], new float[128]),
};

// 2. Save: a .z4ai container, each tensor compressed on its own with its SHA-256.
SafeTensorsCompat.SaveFile(tensors, path, new Dictionary<string, string> { ["format"] = "pt" });

// 3. Load one tensor without touching the rest (verified against its SHA-256).
Tensor loaded = SafeTensorsCompat.LoadTensor(path, "layer.weight");
Console.WriteLine($"layer.weight: {loaded}, identical: {loaded.Data.Span.SequenceEqual(tensors["layer.weight"].Data.Span)}");

// 4. Lazy reader: keys, metadata and a slice of the first dimension.
using (SafeTensorsReader reader = SafeTensorsCompat.Open(path))
{
    Console.WriteLine($"keys: {string.Join(", ", reader.Keys)}; metadata format={reader.Metadata?["format"]}");
    Tensor rows = reader.GetSlice("layer.weight", start: 10, count: 4);
    Console.WriteLine($"rows 10..13: {rows}");
}

// 5. Restore a plain .safetensors file, byte for byte.
string restored = Path.Combine(dir, "model.safetensors");
Z4AiContainer.Decompress(path, restored);
Console.WriteLine($"container {new FileInfo(path).Length} bytes -> safetensors {new FileInfo(restored).Length} bytes");
Directory.Delete(dir, recursive: true);
