using System.Buffers.Binary;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Format;
using Z4Ai.Internal;

namespace Z4Ai.Tests.Format;

/// <summary>The packed index (docs/format.md 1.3a): when the writer packs, what it stores, and hostile packed indexes.</summary>
public class ContainerPackedIndexTests
{
    // Repeated layers: 40 tensors, two distinct contents, so the index (names, digests, records) is mostly redundant.
    private static List<ContainerKit.Sample> RepeatedLayers()
    {
        var rng = new Random(5);
        byte[] q = ContainerKit.RandomBytes(rng, 256);
        byte[] k = ContainerKit.RandomBytes(rng, 512);
        var samples = new List<ContainerKit.Sample>();
        for (int layer = 0; layer < 20; layer++)
        {
            samples.Add(new ContainerKit.Sample($"model.layers.{layer}.attn.q.weight", DType.BF16, [8, 16], q));
            samples.Add(new ContainerKit.Sample($"model.layers.{layer}.mlp.up.weight", DType.U8, [512], k));
        }

        return samples;
    }

    private static byte[] WriteSamples(List<ContainerKit.Sample> samples, byte[]? header, Dictionary<string, string>? metadata, bool pack = true)
    {
        using var output = new MemoryStream();
        using (var writer = new ContainerWriter(output, new ContainerWriterOptions
        {
            ChunkSize = 4096, MinimumChunkSize = 4096, MaxDegreeOfParallelism = 1, Effort = CompressionEffort.Fast, PackIndex = pack,
        }))
        {
            foreach (ContainerKit.Sample s in samples)
            {
                writer.WriteTensor(s.Name, s.DType, s.Shape, s.Data);
            }

            writer.Complete(header, metadata);
        }

        return output.ToArray();
    }

    // The safetensors header the reference writer would give these tensors in this order.
    private static byte[] CanonicalHeader(List<ContainerKit.Sample> samples, Dictionary<string, string>? metadata, bool metadataLast = false) =>
        SafeTensorsFormat.TryCreateHeader(
            samples.Select(s => (s.Name, s.DType, s.Shape, (long)s.Data.Length)).ToList(), metadata?.ToArray(), metadataLast, 1 << 20)!;

    private static byte[] PackedFile() => WriteSamples(RepeatedLayers(), null, new Dictionary<string, string> { ["format"] = "pt" });

    [Test]
    public void Write_RedundantIndex_IsPackedSmallerAndReadsBackTheSame()
    {
        List<ContainerKit.Sample> samples = RepeatedLayers();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        byte[] packed = WriteSamples(samples, null, metadata);
        byte[] plain = WriteSamples(samples, null, metadata, pack: false);

        Assert.That(ContainerKit.StoredIndex(packed).Flags, Is.EqualTo(ContainerFormat.FlagPackedIndex));
        Assert.That(ContainerKit.StoredIndex(plain).Flags, Is.EqualTo(0));
        Assert.That(packed.Length, Is.LessThan(plain.Length * 3 / 4), "names and repeated digests pack well");
        Assert.That(packed.AsSpan(0, (int)ContainerKit.StoredIndex(packed).Offset).SequenceEqual(plain.AsSpan(0, (int)ContainerKit.StoredIndex(plain).Offset)), "the data section does not change");

        using ContainerReader a = ContainerKit.Open(packed);
        using ContainerReader b = ContainerKit.Open(plain);
        Assert.That(a.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape), t.DuplicateOf)), Is.EqualTo(b.Tensors.Select(t => (t.Name, t.DType, string.Join(",", t.Shape), t.DuplicateOf))));
        Assert.That(a.Metadata, Is.EqualTo(metadata));
        for (int i = 0; i < samples.Count; i++)
        {
            Assert.That(a.ReadTensor(a.Tensors[i]), Is.EqualTo(samples[i].Data));
        }
    }

    [Test]
    public void Write_HeaderTheEntriesRebuild_IsNotStoredButRestoresByteForByte()
    {
        List<ContainerKit.Sample> samples = RepeatedLayers();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        byte[] header = CanonicalHeader(samples, metadata);
        byte[] file = WriteSamples(samples, header, metadata);
        (byte[] stored, ushort flags, long offset) = ContainerKit.StoredIndex(file);
        Assert.That(flags, Is.EqualTo(ContainerFormat.FlagPackedIndex));
        byte[] unpacked = ContainerIndexPacking.Unpack(stored, offset, ReadLimits.Default);
        Assert.That(unpacked.AsSpan().IndexOf(header.AsSpan(8, 40)), Is.EqualTo(-1), "the header bytes are not in the index");

        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.OriginalHeader, Is.EqualTo(header));
    }

    [Test]
    public void Write_HeaderWithMetadataLastInItsOwnKeyOrder_IsDerivedAndRestoresByteForByte()
    {
        // The face-api files' layout: __metadata__ after the tensors, keys in insertion order (not sorted).
        List<ContainerKit.Sample> samples = RepeatedLayers();
        var metadata = new Dictionary<string, string> { ["zeta"] = "1", ["alpha"] = "{\"min\": -0.5}", ["mid"] = "x" };
        byte[] header = CanonicalHeader(samples, metadata, metadataLast: true);
        Assert.That(System.Text.Encoding.UTF8.GetString(header).TrimEnd(), Does.EndWith("\"__metadata__\":{\"zeta\":\"1\",\"alpha\":\"{\\\"min\\\": -0.5}\",\"mid\":\"x\"}}"));
        byte[] file = WriteSamples(samples, header, metadata);
        (byte[] stored, _, long offset) = ContainerKit.StoredIndex(file);
        byte[] unpacked = ContainerIndexPacking.Unpack(stored, offset, ReadLimits.Default);
        Assert.That(unpacked.AsSpan().IndexOf("\"dtype\""u8), Is.EqualTo(-1), "the header is rebuilt, not stored");

        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.OriginalHeader, Is.EqualTo(header));
        Assert.That(reader.Metadata, Is.EqualTo(metadata));
    }

    [Test]
    public void Write_HeaderTheEntriesDoNotRebuild_IsKeptVerbatim()
    {
        List<ContainerKit.Sample> samples = RepeatedLayers();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        byte[] header = CanonicalHeader(samples, null); // the metadata is not in it, so rebuilding would differ
        byte[] file = WriteSamples(samples, header, metadata);
        Assert.That(ContainerKit.StoredIndex(file).Flags, Is.EqualTo(ContainerFormat.FlagPackedIndex));
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.OriginalHeader, Is.EqualTo(header));
    }

    [Test]
    public void Write_IndexBelowThePackingThreshold_StaysPlain()
    {
        byte[] file = WriteSamples(RepeatedLayers().Take(2).ToList(), null, null);
        Assert.That(ContainerKit.StoredIndex(file).Stored.Length, Is.LessThan(ContainerFormat.MinPackedIndexSource));
        Assert.That(ContainerKit.StoredIndex(file).Flags, Is.EqualTo(0));
    }

    /// <summary>
    /// Golden vector of the packed variant: fixed inputs give a fixed file. The footer and the packed prefix are
    /// pinned field by field; the whole file by its SHA-256 (the payload is a context-mixing or zstd stream).
    /// </summary>
    [Test]
    public void Write_FixedRepeatedLayers_ProducesThePinnedPackedFile()
    {
        List<ContainerKit.Sample> samples = RepeatedLayers();
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        byte[] file = WriteSamples(samples, CanonicalHeader(samples, metadata), metadata);
        (byte[] stored, ushort flags, long offset) = ContainerKit.StoredIndex(file);
        byte[] plain = ContainerIndexPacking.Unpack(stored, offset, ReadLimits.Default);

        Assert.That(Convert.ToHexString(file.AsSpan(0, 8)), Is.EqualTo("5A34414901000000"), "file header: flags stay 0");
        Assert.That(Convert.ToHexString(file.AsSpan(file.Length - 40, 8)), Is.EqualTo("5A34414901000100"), "footer: version 1, flag bit 0");
        Assert.That(stored[0], Is.EqualTo(Golden.Method));
        Assert.That(VarIntAt(stored, 1), Is.EqualTo((ulong)plain.Length));
        Assert.That(plain.Length, Is.EqualTo(Golden.UnpackedLength));
        Assert.That(stored.Length, Is.EqualTo(Golden.StoredLength));
        Assert.That(offset, Is.EqualTo(Golden.IndexOffset));
        Assert.That(Convert.ToHexString(SHA256.HashData(file)), Is.EqualTo(Golden.FileSha256));
    }

    [Test]
    public void Open_PackedIndexTruncatedAtEveryLength_ThrowsOnlyFormatException()
    {
        byte[] file = PackedFile();
        byte[] stored = ContainerKit.StoredIndex(file).Stored;
        for (int length = 0; length < stored.Length; length++)
        {
            // An arithmetic-coded payload may lose its last flushed byte and still decode to the same index: then the
            // file must read as the original did.
            AssertOnlyFormatError(ContainerKit.WithStoredIndex(file, stored.AsSpan(0, length), ContainerFormat.FlagPackedIndex), mayRead: true);
        }
    }

    [Test]
    public void Open_PackedIndexWithBitFlips_ThrowsOnlyFormatExceptionOrReadsValidly()
    {
        byte[] file = PackedFile();
        byte[] stored = ContainerKit.StoredIndex(file).Stored;
        Arbitrary<(int Seed, int Flips)> cases = (from seed in Gen.Choose(0, int.MaxValue) from flips in Gen.Choose(1, 3) select (seed, flips)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var rng = new Random(c.Seed);
            byte[] mutated = stored.ToArray();
            for (int f = 0; f < c.Flips; f++)
            {
                int at = rng.Next(2) == 0 ? rng.Next(Math.Min(16, mutated.Length)) : rng.Next(mutated.Length);
                mutated[at] ^= (byte)(1 << rng.Next(8));
            }

            // Checksums resealed, so the unpacker and the parser must catch the damage themselves.
            AssertOnlyFormatError(ContainerKit.WithStoredIndex(file, mutated, ContainerFormat.FlagPackedIndex), mayRead: true);
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [Test]
    public void Open_DeclaredLengthOverTheFormatLimit_ThrowsLimitExceededBeforeAllocating()
    {
        byte[] file = PackedFile();
        byte[] stored = ContainerKit.StoredIndex(file).Stored;
        byte[] bomb = [stored[0], .. VarIntBytes((ulong)ContainerFormat.MaxIndexLength + 1), .. stored.AsSpan(1 + VarInt.GetLength(VarIntAt(stored, 1)))];
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, bomb, ContainerFormat.FlagPackedIndex)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
        Assert.That(ex.Message, Does.Contain("1073741825"));
    }

    [Test]
    public void Open_DeclaredLengthOverTheReadLimitOrTheRatio_ThrowsLimitExceeded()
    {
        byte[] file = PackedFile();
        long unpacked = ContainerKit.UnpackedIndexLength(file);
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerReader.Open(new MemoryStream(file), false, null, new ReadLimits { MaxIndexBytes = unpacked - 1 }));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));

        // A 20-byte zstd payload cannot honestly expand to 1 MiB of index: refused before the buffer is allocated.
        byte[] bomb = [ContainerFormat.IndexPackZstd, .. VarIntBytes(1 << 20), .. new byte[20]];
        ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, bomb, ContainerFormat.FlagPackedIndex)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.LimitExceeded));
    }

    [TestCase(-1)]
    [TestCase(1)]
    [TestCase(1000)]
    public void Open_LyingDeclaredLength_ThrowsInvalidContainer(int delta)
    {
        byte[] file = PackedFile();
        byte[] stored = ContainerKit.StoredIndex(file).Stored;
        ulong declared = VarIntAt(stored, 1);
        byte[] lying = [stored[0], .. VarIntBytes((ulong)((long)declared + delta)), .. stored.AsSpan(1 + VarInt.GetLength(declared))];
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, lying, ContainerFormat.FlagPackedIndex)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
    }

    [Test]
    public void Open_UnknownPackingMethodOrFooterFlag_ThrowsUnsupportedVersion()
    {
        byte[] file = PackedFile();
        byte[] stored = ContainerKit.StoredIndex(file).Stored;
        byte[] unknown = [9, .. stored.AsSpan(1)];
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, unknown, ContainerFormat.FlagPackedIndex)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));

        ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, stored, ContainerFormat.FlagPackedIndex | 0x0002)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion));

        // A reader of the plain layout sees a set flag bit in the footer and stops: a packed index is never misread as plain.
        byte[] header = file.ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), ContainerFormat.FlagPackedIndex);
        ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(header));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.UnsupportedVersion), "the file header's flags stay 0");
    }

    [Test]
    public void Open_DerivedHeaderInAPlainIndex_ThrowsInvalidContainer()
    {
        // A plain index ending "no header, no metadata" (00 00) rewritten to "derived header, metadata first, no keys".
        byte[] file = WriteSamples(RepeatedLayers(), null, null, pack: false);
        byte[] plain = ContainerKit.StoredIndex(file).Stored;
        Assert.That(plain[^2..], Is.EqualTo(new byte[] { 0, 0 }));
        byte[] derived = [.. plain.AsSpan(0, plain.Length - 2), ContainerFormat.HeaderDerived, 0, 0, 0];
        var ex = Assert.Throws<Z4AiFormatException>(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, derived, 0)));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.InvalidContainer));
        Assert.That(ex.Message, Does.Contain("presence byte is 2"));

        // The same bytes in packed form would be read, so only the plain layout is what refuses them.
        byte[] packed = ContainerIndexPacking.TryPack(derived, long.MaxValue)!;
        Assert.That(() => ContainerKit.Open(ContainerKit.WithStoredIndex(file, packed, ContainerFormat.FlagPackedIndex)), Throws.InstanceOf<Z4AiFormatException>(), "a plain chunk table is not the packed form");
    }

    // Opening must fail with Z4AiFormatException; where a damaged index may still parse (mayRead), every tensor it
    // names must then read back verified, or fail with a Z4Ai exception.
    private static void AssertOnlyFormatError(byte[] file, bool mayRead = false)
    {
        try
        {
            using ContainerReader reader = ContainerKit.Open(file);
            Assert.That(mayRead, Is.True, "a damaged packed index was accepted");
            foreach (ContainerEntry entry in reader.Tensors)
            {
                _ = reader.ReadTensor(entry);
            }
        }
        catch (Z4AiException)
        {
        }
    }

    private static ulong VarIntAt(byte[] bytes, int at) => new SpanReader(bytes.AsSpan(at)).ReadVarUInt64();

    private static byte[] VarIntBytes(ulong value)
    {
        byte[] bytes = new byte[VarInt.GetLength(value)];
        VarInt.Write(bytes, value);
        return bytes;
    }

    private static class Golden
    {
        // Context mixing (method 2) beats zstd on this index; with the header derived and the chunk records in packed
        // form, the 2,825 unpacked bytes take 234.
        public const byte Method = ContainerFormat.IndexPackContextMixing;
        public const int UnpackedLength = 2825;
        public const int StoredLength = 234;
        public const long IndexOffset = 782;
        public const string FileSha256 = "5719CD021E72036E03B063B61E4F685007E63E0C13AB52C380088D0C3606E2A4";
    }
}
