using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Api;

public class SafeTensorsCompatTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-api-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    internal static Gen<Dictionary<string, Tensor>> ModelGen() =>
        from count in Gen.Choose(0, 6)
        from specs in (
            from dtype in Gen.Elements(Enum.GetValues<DType>())
            from rank in Gen.Choose(0, 3)
            from dims in Gen.Choose(0, 9).ArrayOf(rank)
            from seed in Gen.Choose(0, int.MaxValue)
            select (dtype, dims, seed)).ArrayOf(count)
        select Build(specs);

    private static Dictionary<string, Tensor> Build((DType DType, int[] Dims, int Seed)[] specs)
    {
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < specs.Length; i++)
        {
            (DType dtype, int[] dims, int seed) = specs[i];
            long[] shape = dims.Select(d => (long)d).ToArray();
            if (ShapeBytes(dtype, shape) is not long bytes)
            {
                shape = [.. shape, 2]; // sub-byte dtypes need an even element count
                bytes = ShapeBytes(dtype, shape) ?? 0;
                if (ShapeBytes(dtype, shape) is null)
                {
                    continue;
                }
            }

            byte[] data = new byte[bytes];
            var random = new Random(seed);
            // Mostly smooth values so the codec has something to find, with some noise.
            for (int j = 0; j < data.Length; j++)
            {
                data[j] = (byte)(random.Next(4) == 0 ? random.Next(256) : j % 7);
            }

            model[$"layer.{i}.{dtype}"] = new Tensor(dtype, shape, data);
        }

        return model;
    }

    private static long? ShapeBytes(DType dtype, long[] shape)
    {
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        long bits = elements * dtype.BitSize();
        return bits % 8 == 0 ? bits / 8 : null;
    }

    [Test]
    public void SaveFileThenLoadFile_RoundTripsEveryDTypeInBothFormats() =>
        Prop.ForAll(ModelGen().ToArbitrary(), Gen.Elements(StorageFormat.Z4Ai, StorageFormat.SafeTensors).ToArbitrary(), (model, format) =>
        {
            string path = Path.Combine(_dir, "m.bin");
            var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \n\"quoted\"" };
            SafeTensorsCompat.SaveFile(model, path, metadata, new SaveOptions { Format = format, ChunkSize = 64 << 10 });
            IReadOnlyDictionary<string, Tensor> loaded = SafeTensorsCompat.LoadFile(path);
            Assert.That(loaded.Keys.Order(StringComparer.Ordinal), Is.EqualTo(model.Keys.Order(StringComparer.Ordinal)));
            foreach ((string name, Tensor t) in model)
            {
                Assert.That(loaded[name].DType, Is.EqualTo(t.DType));
                Assert.That(loaded[name].Shape, Is.EqualTo(t.Shape));
                Assert.That(loaded[name].Data.ToArray(), Is.EqualTo(t.Data.ToArray()));
            }

            using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
            Assert.That(reader.Format, Is.EqualTo(format));
            Assert.That(reader.Metadata, Is.EquivalentTo(metadata));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));

    [Test]
    public void ContainerDecompress_RestoresTheCanonicalSafeTensorsBytes() =>
        Prop.ForAll(ModelGen().ToArbitrary(), model =>
        {
            byte[] plain = SafeTensorsCompat.Save(model, options: new SaveOptions { Format = StorageFormat.SafeTensors });
            byte[] container = SafeTensorsCompat.Save(model);
            using var output = new MemoryStream();
            Z4AiContainer.Decompress(new MemoryStream(container), output);
            Assert.That(output.ToArray(), Is.EqualTo(plain));
            Assert.That(container.Length, Is.LessThanOrEqualTo(plain.Length + 512 + (model.Count * 160)), "never expands beyond fixed per-tensor overhead");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));

    [Test]
    public void EveryReader_OnRandomOrMutatedFiles_ThrowsOnlyZ4AiExceptions()
    {
        Dictionary<string, Tensor> model = Build([(DType.BF16, [16, 40], 1), (DType.F32, [33], 2), (DType.I64, [5], 3)]);
        byte[][] seeds =
        [
            SafeTensorsCompat.Save(model),
            SafeTensorsCompat.Save(model, options: new SaveOptions { Format = StorageFormat.SafeTensors }),
        ];
        var mutation =
            from which in Gen.Choose(0, seeds.Length - 1)
            from kind in Gen.Choose(0, 3)
            from position in Gen.Choose(0, int.MaxValue)
            from value in Gen.Choose(0, 255)
            from junk in ArbMap.Default.GeneratorFor<byte>().ArrayOf()
            select Mutate(seeds[which], kind, position, (byte)value, junk);
        Prop.ForAll(mutation.ToArbitrary(), bytes =>
        {
            string path = Path.Combine(_dir, "hostile.bin");
            File.WriteAllBytes(path, bytes);
            AssertOnlyZ4AiExceptions(() => SafeTensorsCompat.LoadFile(path));
            AssertOnlyZ4AiExceptions(() => SafeTensorsCompat.Load(bytes));
            AssertOnlyZ4AiExceptions(() => SafeTensorsCompat.LoadTensor(path, "layer.0.BF16"));
            AssertOnlyZ4AiExceptions(() =>
            {
                using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
                foreach (string key in reader.Keys)
                {
                    reader.GetSlice(key, 0, reader.GetInfo(key).Shape.Count == 0 ? 0 : Math.Min(1, reader.GetInfo(key).Shape[0]));
                }
            });
            AssertOnlyZ4AiExceptions(() => Z4AiContainer.Verify(path));
            AssertOnlyZ4AiExceptions(() => Z4AiContainer.Decompress(new MemoryStream(bytes), Stream.Null));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(400));
    }

    [Test]
    public void LoadTensor_FlippedBitInPayload_IsDetectedWhenThatTensorIsRead()
    {
        Dictionary<string, Tensor> model = Build([(DType.BF16, [64, 64], 4)]);
        byte[] container = SafeTensorsCompat.Save(model);
        byte[] original = model.Values.Single().Data.ToArray();
        int detected = 0;
        for (int bit = 0; bit < container.Length * 8; bit += 13)
        {
            byte[] copy = (byte[])container.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                IReadOnlyDictionary<string, Tensor> loaded = SafeTensorsCompat.Load(copy);
                Assert.That(loaded.Values.Single().Data.ToArray(), Is.EqualTo(original), $"bit {bit} changed the tensor silently");
            }
            catch (Z4AiException)
            {
                detected++;
            }
        }

        Assert.That(detected, Is.GreaterThan(0));
    }

    [Test]
    public void SaveFile_WhenTheSaveFails_LeavesNoPartialOutput()
    {
        string path = Path.Combine(_dir, "out.z4ai");
        File.WriteAllText(path, "previous content");
        var bad = new Dictionary<string, Tensor> { ["__metadata__"] = new Tensor(DType.U8, [1], new byte[1]) };
        Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.SaveFile(bad, path));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous content"));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temporary file may remain");

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => SafeTensorsCompat.SaveFileAsync(Build([(DType.F32, [10], 1)]), path, cancellationToken: cts.Token));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous content"));
    }

    [Test]
    public void GetSlice_ReturnsTheRowsOfTheFirstDimension_InBothFormats([Values] StorageFormat format)
    {
        float[] values = Enumerable.Range(0, 6 * 5).Select(i => (float)i).ToArray();
        var model = new Dictionary<string, Tensor> { ["w"] = Tensor.FromArray<float>(DType.F32, [6, 5], values) };
        string path = Path.Combine(_dir, "slice.bin");
        SafeTensorsCompat.SaveFile(model, path, options: new SaveOptions { Format = format });
        using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
        Tensor slice = reader.GetSlice("w", 2, 3);
        Assert.That(slice.Shape, Is.EqualTo(new long[] { 3, 5 }));
        Assert.That(slice.ToArray<float>(), Is.EqualTo(values[10..25]));
        Assert.That(() => reader.GetSlice("w", 5, 2), Throws.TypeOf<Z4AiFormatException>().With.Property(nameof(Z4AiFormatException.Kind)).EqualTo(Z4AiErrorKind.InvalidSlice));
        Assert.That(() => reader.GetTensor("missing"), Throws.TypeOf<Z4AiTensorNotFoundException>());
        Assert.That(reader.Keys, Is.EqualTo(new[] { "w" }));
    }

    [Test]
    public async Task AsyncVariants_MatchTheSynchronousOnes()
    {
        Dictionary<string, Tensor> model = Build([(DType.F16, [8, 8], 9)]);
        string path = Path.Combine(_dir, "a.z4ai");
        await SafeTensorsCompat.SaveFileAsync(model, path);
        IReadOnlyDictionary<string, Tensor> all = await SafeTensorsCompat.LoadFileAsync(path);
        Tensor one = await SafeTensorsCompat.LoadTensorAsync(path, "layer.0.F16");
        await using SafeTensorsReader reader = await SafeTensorsCompat.OpenAsync(path);
        Tensor viaReader = await reader.GetTensorAsync("layer.0.F16");
        Assert.That(all["layer.0.F16"].Data.ToArray(), Is.EqualTo(model["layer.0.F16"].Data.ToArray()));
        Assert.That(one.Data.ToArray(), Is.EqualTo(viaReader.Data.ToArray()));
    }

    [Test]
    public void Save_ToBufferWriterAndStream_ProduceTheSameBytes()
    {
        Dictionary<string, Tensor> model = Build([(DType.BF16, [32, 8], 5), (DType.BOOL, [7], 6)]);
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        SafeTensorsCompat.Save(model, writer);
        using var stream = new MemoryStream();
        SafeTensorsCompat.Save(model, stream);
        Assert.That(writer.WrittenSpan.ToArray(), Is.EqualTo(stream.ToArray()));
        Assert.That(SafeTensorsCompat.Save(model), Is.EqualTo(stream.ToArray()));
    }

    private static byte[] Mutate(byte[] seed, int kind, int position, byte value, byte[] junk)
    {
        byte[] copy = (byte[])seed.Clone();
        int at = position % Math.Max(1, copy.Length);
        return kind switch
        {
            0 => copy[..at],
            1 => Flip(copy, at, value),
            2 => [.. copy[..at], .. junk, .. copy[at..]],
            _ => junk,
        };
    }

    private static byte[] Flip(byte[] bytes, int at, byte value)
    {
        if (bytes.Length > 0)
        {
            bytes[at] ^= (byte)(value == 0 ? 1 : value);
        }

        return bytes;
    }

    private static void AssertOnlyZ4AiExceptions(Action action)
    {
        try
        {
            action();
        }
        catch (Z4AiException)
        {
        }
        catch (Exception ex)
        {
            Assert.Fail($"{ex.GetType().Name} escaped: {ex}");
        }
    }
}
