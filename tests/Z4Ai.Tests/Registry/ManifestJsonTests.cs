using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Integrity;
using Z4Ai.Registry;

namespace Z4Ai.Tests.Registry;

public class ManifestJsonTests
{
    private static readonly DType[] WholeByteTypes = [DType.BF16, DType.F32, DType.I64, DType.U8, DType.F16, DType.F8_E4M3, DType.C64, DType.BOOL];

    [Test]
    public void WriteThenParse_RandomManifests_RoundTripEveryField()
    {
        Arbitrary<Manifest> manifests =
            (from count in Gen.Choose(0, 6)
             from names in Gen.Elements("a", "b.weight", "layer.0.bias", "ü/ß", "x y", "\"q\"", "emb").ArrayOf(count)
             from dtypes in Gen.Elements(WholeByteTypes).ArrayOf(count)
             from dims in Gen.Choose(0, 4).ArrayOf(count * 2)
             from storages in Gen.Elements(TensorStorage.Copy, TensorStorage.Scratch, TensorStorage.DeltaFromParent, TensorStorage.DeltaFromBase).ArrayOf(count)
             from isBase in ArbMap.Default.GeneratorFor<bool>()
             from withMetadata in ArbMap.Default.GeneratorFor<bool>()
             select Build(names.Distinct().ToArray(), dtypes, dims, storages, isBase, withMetadata)).ToArbitrary();
        Prop.ForAll(manifests, m =>
        {
            byte[] bytes = ManifestJson.Write(m);
            Manifest back = ManifestJson.Parse(bytes, m.Name, "test");
            AssertEqual(m, back);
            return ManifestJson.Write(back).AsSpan().SequenceEqual(bytes);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    [Test]
    public void Parse_EveryByteFlipped_ThrowsFormatErrorOrReadsTheSameManifest()
    {
        Manifest m = Sample(isBase: false);
        byte[] bytes = ManifestJson.Write(m);
        int rejected = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[i] ^= (byte)(1 << (i % 8));
            try
            {
                AssertEqual(m, ManifestJson.Parse(damaged, m.Name, "test"));
            }
            catch (Z4AiFormatException)
            {
                rejected++;
            }
        }

        Assert.That(rejected, Is.GreaterThan(bytes.Length * 9 / 10));
        for (int cut = 0; cut < bytes.Length - 1; cut += 7)
        {
            Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(bytes.AsMemory(0, cut), m.Name, "test"), $"truncated to {cut}");
        }
    }

    [Test]
    public void Parse_BodyEditedWithoutResigning_FailsTheChecksum()
    {
        Manifest m = Sample(isBase: false);
        string text = Encoding.UTF8.GetString(ManifestJson.Write(m)).Replace("\"tier\": \"lossless\"", "\"tier\": \"losslesS\"", StringComparison.Ordinal);
        var ex = Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(Encoding.UTF8.GetBytes(text), m.Name, "manifests/v2.json"));
        Assert.That(ex!.Message, Does.Contain("fails its checksum").And.Contain("manifests/v2.json"));
    }

    [TestCase("\"name\": \"v2\"", "\"name\": \"v3\"", Z4AiErrorKind.InvalidContainer, "names itself 'v3'")]
    [TestCase("\"name\": \"v2\"", "\"name\": \"../v2\"", Z4AiErrorKind.InvalidContainer, "not a valid version name")]
    [TestCase("\"dtype\": \"BF16\"", "\"dtype\": \"BF17\"", Z4AiErrorKind.InvalidContainer, "unknown dtype 'BF17'")]
    [TestCase("\"length\": 512", "\"length\": 511", Z4AiErrorKind.TensorInvalidInfo, "the manifest says 511")]
    [TestCase("\"shape\": [\n", "\"shape\": [\n -1,", Z4AiErrorKind.InvalidContainer, "integer from 0")]
    [TestCase("\"tier\": \"lossless\"", "\"tier\": \"int4-certified\"", Z4AiErrorKind.UnsupportedVersion, "tier 'int4-certified'")]
    [TestCase("\"certificate\": null", "\"certificate\": {\"metric\": \"kl\"}", Z4AiErrorKind.InvalidContainer, "certificate needs")]
    [TestCase("\"certificate\": null", "\"certificate\": {\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"passed\": true}", Z4AiErrorKind.InvalidContainer, "carries no certificate")]
    [TestCase("\"tier\": \"lossless\"", "\"tier\": \"int8\"", Z4AiErrorKind.InvalidContainer, "records its lossy settings")]
    [TestCase("\"tier\": \"lossless\",", "", Z4AiErrorKind.InvalidContainer, "lacks tier")]
    [TestCase("\"tier\": \"lossless\",", "\"tier\": \"lossless\", \"tier\": \"lossless\",", Z4AiErrorKind.InvalidContainer, "appears twice")]
    [TestCase("\"parent\": \"v1\"", "\"parent\": null", Z4AiErrorKind.InvalidContainer, "no parent but is not the base")]
    [TestCase("\"parent\": \"v1\"", "\"parent\": \"v2\"", Z4AiErrorKind.InvalidContainer, "names itself as its parent")]
    [TestCase("\"path\": \"model.safetensors\"", "\"path\": \"../model.safetensors\"", Z4AiErrorKind.InvalidContainer, "not a plain file name")]
    [TestCase("\"storage\": \"copy\"", "\"storage\": \"zip\"", Z4AiErrorKind.InvalidContainer, "unknown storage 'zip'")]
    [TestCase("\"storage\": \"scratch\"", "\"storage\": \"delta-parent\"", Z4AiErrorKind.InvalidContainer, "depth 1 or more")]
    [TestCase("\"created\": \"", "\"created\": \"yesterday", Z4AiErrorKind.InvalidContainer, "UTC time")]
    [TestCase("\"header\": \"", "\"header\": \"!!", Z4AiErrorKind.InvalidContainer, "not valid base64")]
    [TestCase("\"format\": \"pt\"", "\"format\": \"np\"", Z4AiErrorKind.InvalidContainer, "differs from the __metadata__")]
    public void Parse_ResignedBodyWithABadField_ThrowsAPreciseError(string find, string replace, Z4AiErrorKind kind, string message)
    {
        Manifest m = Sample(isBase: false);
        byte[] bytes = Resign(ManifestJson.Write(m), body =>
        {
            int at = body.IndexOf(find, StringComparison.Ordinal);
            Assert.That(at, Is.GreaterThanOrEqualTo(0), $"'{find}' is in the body");
            return body[..at] + replace + body[(at + find.Length)..];
        });
        var ex = Assert.Throws(Is.InstanceOf<Z4AiFormatException>(), () => ManifestJson.Parse(bytes, "v2", "test"));
        var format = (Z4AiFormatException)ex!;
        Assert.That(format.Kind, Is.EqualTo(kind), format.Message);
        Assert.That(format.Message, Does.Contain(message));
    }

    [Test]
    public void Parse_HeaderThatDisagreesWithTheTensors_IsRejected()
    {
        Manifest m = Sample(isBase: false);
        ManifestFile f = m.Files[0];
        ManifestTensor[] swapped = [f.Tensors[1] with { }, f.Tensors[0] with { }];
        var other = new Manifest(m.Name, m.Parent, m.Base, m.Created, m.Tier, null, [new ManifestFile(f.Path, f.Header, f.Sha256, swapped, null)]);
        var ex = Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(ManifestJson.Write(other), "v2", "test"));
        Assert.That(ex!.Message, Does.Contain("in its header"));
    }

    [Test]
    public void Parse_NewerEnvelopeVersionOrForeignJson_IsRejected()
    {
        byte[] bytes = ManifestJson.Write(Sample(isBase: true));
        string text = Encoding.UTF8.GetString(bytes);
        var newer = Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(Encoding.UTF8.GetBytes(text.Replace("{\"z4aiManifest\":1", "{\"z4aiManifest\":2", StringComparison.Ordinal)), null, "t"));
        Assert.That(newer!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));
        var foreign = Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse("{\"weight_map\": {}}"u8.ToArray(), null, "t"));
        Assert.That(foreign!.Message, Does.Contain("not a Z4Ai version manifest"));
        Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse("not json"u8.ToArray(), null, "t"));
        Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(bytes.Concat("{}"u8.ToArray()).ToArray(), null, "t"));
        Assert.Throws<Z4AiFormatException>(() => ManifestJson.Parse(Array.Empty<byte>(), null, "t"));
    }

    [Test]
    public void RootRecord_RoundTripsAndRejectsDamage()
    {
        var record = new RootRecord("base-1", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        byte[] bytes = record.Write();
        Assert.That(RootRecord.Parse(bytes, "t"), Is.EqualTo(record));
        for (int i = 0; i < bytes.Length; i++)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x20;
            try
            {
                Assert.That(RootRecord.Parse(damaged, "t"), Is.EqualTo(record));
            }
            catch (Z4AiFormatException)
            {
            }
        }
    }

    internal static byte[] Resign(byte[] manifest, Func<string, string> edit)
    {
        string text = Encoding.UTF8.GetString(manifest);
        int start = text.IndexOf("\"body\":", StringComparison.Ordinal) + "\"body\":".Length;
        int end = text.LastIndexOf('}');
        string body = edit(text[start..end]);
        string sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        return Encoding.UTF8.GetBytes($"{{\"z4aiManifest\":1,\"sha256\":\"{sha}\",\"body\":{body}}}\n");
    }

    internal static Manifest Sample(bool isBase)
    {
        return Build(["w", "b"], [DType.BF16, DType.F32], [16, 16, 4, 2], [TensorStorage.Copy, TensorStorage.Scratch], isBase, withMetadata: true, name: isBase ? "v1" : "v2");
    }

    private static Manifest Build(string[] names, DType[] dtypes, int[] dims, TensorStorage[] storages, bool isBase, bool withMetadata, string? name = null)
    {
        var inputs = new List<SafeTensorsLayoutInput>();
        for (int i = 0; i < names.Length; i++)
        {
            long[] shape = [dims[2 * i], dims[(2 * i) + 1]];
            inputs.Add(new SafeTensorsLayoutInput(names[i], dtypes[i], shape, SafeTensorsFormat.GetByteLength(dtypes[i], shape)));
        }

        Dictionary<string, string>? metadata = withMetadata ? new() { ["format"] = "pt", ["note"] = "é\u0001" } : null;
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(inputs, metadata);
        IReadOnlyList<SafeTensorsEntry> order = SafeTensorsFormat.ParseHeader(layout.HeaderBytes.AsSpan(8), layout.TotalLength).Tensors;
        var tensors = new List<ManifestTensor>();
        for (int i = 0; i < order.Count; i++)
        {
            SafeTensorsEntry e = order[i];
            Sha256Digest sha = Sha256Digest.Compute(Encoding.UTF8.GetBytes(e.Name));
            TensorStorage storage = storages[Array.IndexOf(names, e.Name)];
            bool delta = storage is TensorStorage.DeltaFromParent or TensorStorage.DeltaFromBase;
            tensors.Add(new ManifestTensor(
                e.Name, e.DType, e.Shape, e.Length, sha, sha, storage, delta ? Sha256Digest.Compute([(byte)i]) : null,
                storage == TensorStorage.Scratch ? 0 : 1 + i, storage == TensorStorage.Copy ? 0 : 100 + i, Hidden: false));
        }

        string version = name ?? (isBase ? "base" : "v2");
        var file = new ManifestFile("model.safetensors", layout.HeaderBytes, Sha256Digest.Compute(layout.HeaderBytes), [.. tensors], metadata);
        var created = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234567);
        return new Manifest(version, isBase ? null : "v1", isBase ? version : "v1", created, Manifest.LosslessTier, null, [file]);
    }

    private static void AssertEqual(Manifest expected, Manifest actual)
    {
        Assert.That(actual.Name, Is.EqualTo(expected.Name));
        Assert.That(actual.Parent, Is.EqualTo(expected.Parent));
        Assert.That(actual.Base, Is.EqualTo(expected.Base));
        Assert.That(actual.Created, Is.EqualTo(expected.Created));
        Assert.That(actual.Tier, Is.EqualTo(expected.Tier));
        Assert.That(actual.Files, Has.Length.EqualTo(expected.Files.Length));
        for (int f = 0; f < expected.Files.Length; f++)
        {
            ManifestFile a = actual.Files[f];
            ManifestFile e = expected.Files[f];
            Assert.That(a.Path, Is.EqualTo(e.Path));
            Assert.That(a.Header, Is.EqualTo(e.Header));
            Assert.That(a.Sha256, Is.EqualTo(e.Sha256));
            Assert.That(a.Metadata, Is.EqualTo(e.Metadata));
            Assert.That(a.Tensors.Length, Is.EqualTo(e.Tensors.Length));
            for (int t = 0; t < e.Tensors.Length; t++)
            {
                Assert.That(a.Tensors[t] with { Shape = [] }, Is.EqualTo(e.Tensors[t] with { Shape = [] }));
                Assert.That(a.Tensors[t].Shape, Is.EqualTo(e.Tensors[t].Shape));
            }
        }
    }
}
