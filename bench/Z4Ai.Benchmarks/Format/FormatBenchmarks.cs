using BenchmarkDotNet.Attributes;

namespace Z4Ai.Benchmarks.Format;

/// <summary>Save, load and one-tensor load of the container against the plain .safetensors file.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class FormatBenchmarks
{
    private Dictionary<string, Tensor> _model = null!;
    private string _dir = null!;
    private string _plain = null!;
    private string _container = null!;
    private string _probe = null!;

    /// <summary>Model size in MiB.</summary>
    [Params(64)]
    public int MiB { get; set; }

    internal static Dictionary<string, Tensor> CreateModel(int mib)
    {
        const int TensorMiB = 8;
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < Math.Max(1, mib / TensorMiB); i++)
        {
            byte[] bytes = new byte[TensorMiB << 20];
            SyntheticWeights.FillBf16(bytes, (ulong)i + 7);
            model[$"model.layers.{i:D3}.weight"] = new Tensor(DType.BF16, [bytes.Length / 2 / 4096, 4096], bytes);
        }

        return model;
    }

    [GlobalSetup]
    public void Setup()
    {
        _model = CreateModel(MiB);
        _probe = _model.Keys.Order(StringComparer.Ordinal).First();
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-bdn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _plain = Path.Combine(_dir, "m.safetensors");
        _container = Path.Combine(_dir, "m.z4ai");
        SafeTensorsCompat.SaveFile(_model, _plain, options: new SaveOptions { Format = StorageFormat.SafeTensors });
        SafeTensorsCompat.SaveFile(_model, _container);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("load")]
    public int LoadPlain() => SafeTensorsCompat.LoadFile(_plain).Count;

    [Benchmark]
    [BenchmarkCategory("load")]
    public int LoadContainer() => SafeTensorsCompat.LoadFile(_container).Count;

    [Benchmark]
    [BenchmarkCategory("one")]
    public int LoadTensorPlain() => SafeTensorsCompat.LoadTensor(_plain, _probe).Data.Length;

    [Benchmark]
    [BenchmarkCategory("one")]
    public int LoadTensorContainer() => SafeTensorsCompat.LoadTensor(_container, _probe).Data.Length;

    [Benchmark]
    [BenchmarkCategory("save")]
    public void SavePlain() => SafeTensorsCompat.SaveFile(_model, _plain, options: new SaveOptions { Format = StorageFormat.SafeTensors });

    [Benchmark]
    [BenchmarkCategory("save")]
    public void SaveContainer() => SafeTensorsCompat.SaveFile(_model, _container);
}
