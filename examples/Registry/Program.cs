// Registry: a model family stored once, every version a verified delta.
// Run: dotnet run --project examples/Registry
using System.Security.Cryptography;
using Z4Ai;

string dir = Path.Combine(Path.GetTempPath(), "z4ai-registry-example-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(dir);
try
{
    // 1. A small bf16 model family: a base, a sparse fine-tune of it, and three consecutive training checkpoints.
    var random = new Random(7);
    Dictionary<string, Tensor> baseModel = MakeBase(random);
    var family = new List<(string Name, string? Parent, Dictionary<string, Tensor> Model)>
    {
        ("base", null, baseModel),
        ("chat-ft", "base", Perturb(baseModel, random, fraction: 0.05, onlyAttention: true)),
    };
    Dictionary<string, Tensor> checkpoint = family[1].Model;
    for (int step = 1; step <= 3; step++)
    {
        checkpoint = Perturb(checkpoint, random, fraction: 0.3, onlyAttention: false);
        family.Add(($"chat-ft-step{step}", step == 1 ? "chat-ft" : $"chat-ft-step{step - 1}", checkpoint));
    }

    var files = new Dictionary<string, string>();
    foreach ((string name, _, Dictionary<string, Tensor> model) in family)
    {
        files[name] = Path.Combine(dir, name + ".safetensors");
        SafeTensorsCompat.SaveFile(model, files[name], new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
    }

    // 2. Init a registry with the base, then add each version against its parent.
    var store = new LocalBlobStore(Path.Combine(dir, "zoo"));
    ModelRegistry registry = ModelRegistry.Init(store, files["base"], "base");
    foreach ((string name, string? parent, _) in family.Skip(1))
    {
        RegistryAddReport report = registry.Add(files[name], name, parent);
        Console.WriteLine(
            $"added {name,-16} {report.Count(TensorStorage.Copy),2} copied, {report.Count(TensorStorage.DeltaFromParent),2} delta vs parent, "
            + $"{report.Count(TensorStorage.DeltaFromBase),2} delta vs base, {report.Count(TensorStorage.Scratch),2} from scratch: {report.StoredBytes,9:N0} bytes stored");
    }

    // 3. List every version.
    Console.WriteLine();
    foreach (RegistryVersion v in registry.List())
    {
        Console.WriteLine($"{v.Name,-16} parent {v.Parent ?? "-",-16} {v.LogicalBytes,9:N0} logical bytes, {v.StoredBytes + v.ManifestBytes,9:N0} stored ({v.Ratio:0.0}x)");
    }

    // 4. Get one version back: byte for byte the file it was added from, verified on the way out.
    string restored = Path.Combine(dir, "restored.safetensors");
    registry.Get("chat-ft-step2", restored);
    bool identical = Sha256(restored).SequenceEqual(Sha256(files["chat-ft-step2"]));
    Console.WriteLine($"\nget chat-ft-step2: byte-exact {identical}");

    // 5. One tensor of the newest version, and a verify of everything.
    Tensor q = registry.GetTensor("chat-ft-step3", "layers.0.attn.q_proj.weight");
    Console.WriteLine($"get-tensor layers.0.attn.q_proj.weight: {q}, identical {q.Data.Span.SequenceEqual(checkpoint["layers.0.attn.q_proj.weight"].Data.Span)}");
    Console.WriteLine($"verify: {(registry.Verify().Passed ? "integrity: PASS (SHA-256)" : "integrity: FAIL")}");

    // 6. What the family costs, against storing each version in full.
    long full = files.Values.Sum(f => new FileInfo(f).Length);
    long stored = Directory.GetFiles(store.Root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    Console.WriteLine($"\n{family.Count} versions: {full:N0} bytes as plain safetensors files, {stored:N0} bytes in the registry ({(double)full / stored:0.0}x smaller)");
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static Dictionary<string, Tensor> MakeBase(Random random)
{
    var model = new Dictionary<string, Tensor>(StringComparer.Ordinal) { ["embed.weight"] = Bf16(random, 1024, 128, 0.02) };
    for (int layer = 0; layer < 4; layer++)
    {
        foreach (string projection in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
        {
            model[$"layers.{layer}.attn.{projection}.weight"] = Bf16(random, 128, 128, 0.03);
        }

        model[$"layers.{layer}.mlp.up_proj.weight"] = Bf16(random, 512, 128, 0.03);
        model[$"layers.{layer}.mlp.down_proj.weight"] = Bf16(random, 128, 512, 0.02);
        model[$"layers.{layer}.norm.weight"] = Tensor.FromArray<float>(DType.F32, [128], Enumerable.Repeat(1f, 128).ToArray());
    }

    return model;
}

// Moves a fraction of the bf16 weights by one representable step, as a fine-tune or a training step would.
static Dictionary<string, Tensor> Perturb(Dictionary<string, Tensor> model, Random random, double fraction, bool onlyAttention)
{
    var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
    foreach ((string name, Tensor tensor) in model)
    {
        if (tensor.DType != DType.BF16 || (onlyAttention && !name.Contains(".attn.", StringComparison.Ordinal)))
        {
            result[name] = tensor;
            continue;
        }

        ushort[] bits = tensor.ToArray<ushort>();
        for (int i = 0; i < bits.Length; i++)
        {
            if (random.NextDouble() < fraction)
            {
                bits[i] = (ushort)(bits[i] + (random.Next(2) == 0 ? 1 : -1));
            }
        }

        result[name] = Tensor.FromArray<ushort>(DType.BF16, tensor.GetShape(), bits);
    }

    return result;
}

static Tensor Bf16(Random random, int rows, int columns, double std)
{
    var bits = new ushort[rows * columns];
    for (int i = 0; i < bits.Length; i++)
    {
        double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        bits[i] = (ushort)(BitConverter.SingleToInt32Bits((float)(gaussian * std)) >> 16);
    }

    return Tensor.FromArray<ushort>(DType.BF16, [rows, columns], bits);
}

static byte[] Sha256(string path)
{
    using FileStream stream = File.OpenRead(path);
    return SHA256.HashData(stream);
}
