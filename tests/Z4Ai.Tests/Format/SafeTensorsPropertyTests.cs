using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

/// <summary>A random tensor set: inputs with their payloads, and optional metadata.</summary>
public sealed record StTensorSet(
    (string Name, DType DType, long[] Shape, byte[] Data)[] Tensors,
    Dictionary<string, string>? Metadata,
    int Seed)
{
    public override string ToString() =>
        $"[{string.Join("; ", Tensors.Select(t => $"{Escape(t.Name)}:{t.DType}[{string.Join(",", t.Shape)}]"))}] " +
        $"meta={(Metadata is null ? "null" : string.Join(",", Metadata.Select(kv => Escape(kv.Key) + "=" + Escape(kv.Value))))} seed={Seed}";

    private static string Escape(string s) => string.Concat(s.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:x4}" : c.ToString()));
}

/// <summary>FsCheck generators for safetensors files.</summary>
public static class StGen
{
    // Pieces that stress the escaper and the UTF-8 ordering: quotes, backslash, every escape class, DEL,
    // 2-, 3- and 4-byte UTF-8, and the BMP-above-surrogates range.
    private static readonly string[] Pieces =
    [
        "a", "b", "Z", "0", ".", "/", "_", " ", "\"", "\\", "\b", "\f", "\n", "\r", "\t", "\0", "\u0001", "\u001f",
        "\u007f", "\u00e9", "\u4e2d", "\uFF21", "\uE000", "\U0001F600", "\U0001D11E",
    ];

    public static Gen<string> Text(int maxPieces) =>
        from n in Gen.Choose(0, maxPieces)
        from parts in Gen.Elements(Pieces).ArrayOf(n)
        select string.Concat(parts);

    public static Gen<long[]> Shape =>
        from rank in Gen.Choose(0, 8)
        from dims in Gen.Frequency((1, Gen.Constant(0)), (8, Gen.Choose(1, 3))).ArrayOf(rank)
        select dims.Select(d => (long)d).ToArray();

    public static Gen<StTensorSet> TensorSet =>
        from count in Gen.Choose(0, 8)
        from names in Text(6).ArrayOf(count)
        from dtypes in Gen.Elements(Enum.GetValues<DType>()).ArrayOf(count)
        from shapes in Shape.ArrayOf(count)
        from hasMeta in Gen.Choose(0, 2)
        from metaKeys in Text(4).ArrayOf(4)
        from metaValues in Text(8).ArrayOf(4)
        from metaCount in Gen.Choose(0, 4)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(names, dtypes, shapes, hasMeta == 0 ? null : (metaKeys, metaValues, metaCount), seed);

    public static Arbitrary<StTensorSet> TensorSetArb => TensorSet.ToArbitrary();

    private static StTensorSet Build(
        string[] names, DType[] dtypes, long[][] shapes, (string[] Keys, string[] Values, int Count)? meta, int seed)
    {
        var rng = new Random(seed);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tensors = new List<(string, DType, long[], byte[])>();
        for (int i = 0; i < names.Length; i++)
        {
            if (!seen.Add(names[i]))
            {
                continue;
            }

            long[] shape = shapes[i];
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (count * dtypes[i].BitSize() % 8 != 0)
            {
                // Sub-byte dtypes need a multiple of 2 (F4) or 4 (F6) elements: widen the last dimension.
                shape = shape.Length == 0 ? [4] : [.. shape[..^1], shape[^1] * 4];
                count *= 4;
            }

            byte[] data = new byte[count * dtypes[i].BitSize() / 8];
            rng.NextBytes(data);
            tensors.Add((names[i], dtypes[i], shape, data));
        }

        Dictionary<string, string>? metadata = null;
        if (meta is { } m)
        {
            metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < m.Count; i++)
            {
                metadata[m.Keys[i]] = m.Values[i];
            }
        }

        return new StTensorSet([.. tensors], metadata, seed);
    }
}

/// <summary>Round-trip, order-independence, canonical-form and fuzzing properties of the format layer.</summary>
public class SafeTensorsPropertyTests
{
    private static readonly Config Cfg = Config.QuickThrowOnFailure.WithMaxTest(200);

    private static IEnumerable<SafeTensorsLayoutInput> Inputs(StTensorSet s) =>
        s.Tensors.Select(t => new SafeTensorsLayoutInput(t.Name, t.DType, t.Shape, t.Data.Length));

    [Test]
    public void CreateLayoutThenParse_RandomTensorSets_RoundTrip() =>
        Prop.ForAll(StGen.TensorSetArb, s =>
        {
            byte[] file = StBytes.Serialize(s.Tensors, s.Metadata);
            SafeTensorsHeader h = SafeTensorsFormat.Parse(file);

            Assert.That(h.Tensors, Has.Count.EqualTo(s.Tensors.Length));
            foreach ((string name, DType dtype, long[] shape, byte[] data) in s.Tensors)
            {
                Assert.That(h.TryGetTensor(name, out SafeTensorsEntry? e), Is.True, name);
                Assert.That((e!.DType, e.Shape), Is.EqualTo((dtype, shape)));
                Assert.That(file.AsSpan((int)(h.DataOffset + e.Begin), (int)e.Length).ToArray(), Is.EqualTo(data));
            }

            Assert.That(h.Metadata, s.Metadata is null ? Is.Null : Is.EquivalentTo(s.Metadata));
            Assert.That(h.HeaderLength % 8, Is.Zero);
            Assert.That(h.TotalLength, Is.EqualTo(file.Length));
        }).Check(Cfg);

    [Test]
    public void CreateLayout_ShuffledInputs_GiveIdenticalLayout() =>
        Prop.ForAll(StGen.TensorSetArb, s =>
        {
            SafeTensorsLayout a = SafeTensorsFormat.CreateLayout(Inputs(s), s.Metadata);
            var shuffled = Inputs(s).ToArray();
            new Random(s.Seed).Shuffle(shuffled);
            Dictionary<string, string>? meta = s.Metadata?.Reverse().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            SafeTensorsLayout b = SafeTensorsFormat.CreateLayout(shuffled, meta);
            Assert.That(b.HeaderBytes, Is.EqualTo(a.HeaderBytes));
            Assert.That(b.Tensors.Select(t => (t.Name, t.Begin, t.End)), Is.EqualTo(a.Tensors.Select(t => (t.Name, t.Begin, t.End))));
        }).Check(Cfg);

    [Test]
    public void ParseThenCreateLayout_OurOutput_IsCanonical() =>
        Prop.ForAll(StGen.TensorSetArb, s =>
        {
            SafeTensorsLayout first = SafeTensorsFormat.CreateLayout(Inputs(s), s.Metadata);
            SafeTensorsHeader parsed = SafeTensorsFormat.ParseHeader(first.HeaderBytes.AsSpan(8), first.TotalLength);
            SafeTensorsLayout again = SafeTensorsFormat.CreateLayout(
                parsed.Tensors.Select(e => new SafeTensorsLayoutInput(e.Name, e.DType, e.Shape, e.Length)), parsed.Metadata);
            Assert.That(again.HeaderBytes, Is.EqualTo(first.HeaderBytes));
        }).Check(Cfg);

    [Test]
    public void Parse_RandomBytes_ParsesOrThrowsFormatException()
    {
        Gen<byte[]> raw = Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf();
        Gen<byte[]> withPlausiblePrefix =
            from body in Gen.Elements((byte)'{', (byte)'}', (byte)'"', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'0', (byte)'1', (byte)' ', (byte)'a', (byte)'_').ArrayOf()
            from extra in Gen.Choose(0, 3)
            select StBytes.Cat(StBytes.Le((ulong)Math.Max(0, body.Length - extra)), body);
        Prop.ForAll(Gen.OneOf(raw, withPlausiblePrefix).ToArbitrary(), bytes => AssertOnlyFormatErrors(bytes)).Check(Cfg.WithMaxTest(300));
    }

    [Test]
    public void Parse_MutatedValidFiles_ParseOrThrowFormatException()
    {
        Gen<(StTensorSet Set, int Kind, int A, int B, int C)> cases =
            from s in StGen.TensorSet
            from kind in Gen.Choose(0, 7)
            from a in Gen.Choose(0, int.MaxValue)
            from b in Gen.Choose(0, int.MaxValue)
            from c in Gen.Choose(0, int.MaxValue)
            select (s, kind, a, b, c);
        Prop.ForAll(cases.ToArbitrary(), t =>
        {
            byte[] file = StBytes.Serialize(t.Set.Tensors, t.Set.Metadata);
            AssertOnlyFormatErrors(Mutate(file, t.Kind, t.A, t.B, t.C));
        }).Check(Cfg.WithMaxTest(300));
    }

    /// <summary>
    /// Flips a bit, truncates, inserts, deletes, duplicates a range, or edits the JSON (fixing the length prefix so
    /// the damage reaches the deeper checks). Three in four positions fall in the header, where the checks are.
    /// </summary>
    private static byte[] Mutate(byte[] file, int kind, int a, int b, int c)
    {
        int n = file.Length;
        int headerEnd = (int)Math.Min(n, 8 + (long)BitConverter.ToUInt64(file));
        int limit = c % 4 == 0 ? n : Math.Min(n, headerEnd + 8);
        int at = a % limit;
        var rng = new Random(c);
        ReadOnlySpan<byte> structural = "{}[],:\"0-.e \\u"u8;
        switch (kind)
        {
            case 0:
            {
                byte[] m = (byte[])file.Clone();
                m[at] ^= (byte)(1 << (b % 8));
                return m;
            }

            case 1:
                return file.AsSpan(0, a % (n + 1)).ToArray();
            case 2:
            {
                byte[] junk = new byte[1 + (b % 16)];
                rng.NextBytes(junk);
                return StBytes.Cat(file[..at], junk, file[at..]);
            }

            case 3:
            {
                int len = Math.Min(n - at, 1 + (b % 16));
                return StBytes.Cat(file[..at], file[(at + len)..]);
            }

            case 4:
            {
                int len = Math.Min(n - at, 1 + (b % 32));
                int to = b % (limit + 1);
                return StBytes.Cat(file[..to], file[at..(at + len)], file[to..]);
            }

            case 5:
            {
                // Replace one JSON byte with a structural character; N stays right.
                byte[] m = (byte[])file.Clone();
                m[8 + (a % (headerEnd - 8))] = structural[b % structural.Length];
                return m;
            }

            case 6:
            {
                // Insert structural characters inside the JSON and grow N to match.
                int pos = 8 + (a % (headerEnd - 8 + 1));
                byte[] junk = new byte[1 + (b % 4)];
                for (int i = 0; i < junk.Length; i++)
                {
                    junk[i] = structural[rng.Next(structural.Length)];
                }

                byte[] m = StBytes.Cat(file[..pos], junk, file[pos..]);
                BitConverter.TryWriteBytes(m, (ulong)(headerEnd - 8 + junk.Length));
                return m;
            }

            default:
            {
                // Delete a run inside the JSON and shrink N to match.
                int pos = 8 + (a % (headerEnd - 8));
                int len = Math.Min(headerEnd - pos, 1 + (b % 8));
                byte[] m = StBytes.Cat(file[..pos], file[(pos + len)..]);
                BitConverter.TryWriteBytes(m, (ulong)(headerEnd - 8 - len));
                return m;
            }
        }
    }

    private static void AssertOnlyFormatErrors(byte[] bytes)
    {
        Z4AiErrorKind? kind = null;
        try
        {
            SafeTensorsHeader h = SafeTensorsFormat.Parse(bytes);
            Assert.That(h.TotalLength, Is.EqualTo(bytes.Length));
            Assert.That(h.Tensors.Sum(t => t.Length), Is.EqualTo(h.DataLength));
        }
        catch (Z4AiFormatException ex)
        {
            kind = ex.Kind;
        }

        // The stream reader must agree with the in-memory one on every input.
        using var ms = new MemoryStream(bytes);
        try
        {
            SafeTensorsFormat.ReadHeader(ms);
            Assert.That(kind, Is.Null);
        }
        catch (Z4AiFormatException ex)
        {
            Assert.That(ex.Kind, Is.EqualTo(kind));
        }
    }
}
