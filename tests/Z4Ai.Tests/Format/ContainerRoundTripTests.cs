using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

public class ContainerRoundTripTests
{
    private static readonly DType[] DTypes =
        [DType.BF16, DType.F16, DType.F32, DType.F64, DType.U8, DType.I32, DType.BOOL, DType.F4, DType.F6_E2M3, DType.C64, DType.I64];

    [Test]
    public void WriteThenRead_RandomTensorSets_RoundTripExactly()
    {
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var rng = new Random(seed);
            int chunkSize = new[] { 4096, 8192, 65536 }[rng.Next(3)];
            var options = ContainerKit.Options(chunkSize, maxDop: rng.Next(1, 4), effort: (CompressionEffort)rng.Next(3));
            List<ContainerKit.Sample> samples = ContainerKit.RandomSamples(rng, DTypes, maxTensors: 7, maxElements: 9000);
            byte[]? header = rng.Next(2) == 0 ? null : ContainerKit.FakeSafeTensorsHeader(rng.Next(0, 300));
            Dictionary<string, string>? metadata = rng.Next(2) == 0 ? null : new() { ["format"] = "pt", ["ünïcode ✓"] = "value " + seed };
            (byte[] file, List<ContainerTensorStats> stats) = ContainerKit.Write(samples, options, header, metadata);

            using ContainerReader reader = ContainerKit.Open(file);
            Assert.That(reader.ChunkSize, Is.EqualTo(chunkSize));
            Assert.That(reader.Tensors.Select(t => t.Name), Is.EqualTo(samples.Select(s => s.Name)));
            Assert.That(reader.OriginalHeader, Is.EqualTo(header));
            Assert.That(reader.Metadata, metadata is null ? Is.Null : Is.EquivalentTo(metadata));
            long maxStored = 0;
            for (int i = 0; i < samples.Count; i++)
            {
                ContainerKit.Sample sample = samples[i];
                ContainerEntry entry = reader.Tensors[i];
                Assert.That(entry.DType, Is.EqualTo(sample.DType));
                Assert.That(entry.Shape, Is.EqualTo(sample.Shape));
                Assert.That(entry.RawLength, Is.EqualTo(sample.Data.Length));
                Assert.That(entry.Sha256, Is.EqualTo(SHA256.HashData(sample.Data)));
                Assert.That(entry.StoredLength, Is.EqualTo(stats[i].StoredLength));
                Assert.That(entry.DuplicateOf is not null, Is.EqualTo(stats[i].Deduplicated));
                Assert.That(reader.ReadTensor(entry), Is.EqualTo(sample.Data));
                maxStored += entry.DuplicateOf is null ? entry.Chunks.Sum(c => (long)c.RawLength + TensorCodec.MaxHeaderLength) : 0;

                using var copy = new MemoryStream();
                reader.CopyTensorTo(entry, copy);
                Assert.That(copy.ToArray(), Is.EqualTo(sample.Data));

                if (sample.Data.Length > 0)
                {
                    int start = rng.Next(sample.Data.Length);
                    int length = rng.Next(sample.Data.Length - start + 1);
                    byte[] part = new byte[length];
                    reader.ReadRange(entry, start, part);
                    Assert.That(part, Is.EqualTo(sample.Data.AsSpan(start, length).ToArray()));
                }
            }

            // Never expands beyond a frame header per stored chunk, whatever the data.
            Assert.That(ContainerKit.DataSectionLength(file), Is.LessThanOrEqualTo(maxStored));
            Assert.That(reader.Verify(), Is.Empty);
            if (header is not null)
            {
                using var restored = new MemoryStream();
                reader.RestoreSafeTensors(restored);
                Assert.That(restored.ToArray(), Is.EqualTo(header.Concat(samples.SelectMany(s => s.Data)).ToArray()));
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Test]
    public void Write_SameInputs_IsByteIdenticalWhateverTheParallelism()
    {
        var rng = new Random(7);
        List<ContainerKit.Sample> samples = ContainerKit.RandomSamples(rng, DTypes, maxTensors: 6, maxElements: 30000);
        samples.Add(samples[0] with { Name = "again" });
        byte[] serial = ContainerKit.Write(samples, ContainerKit.Options(4096, maxDop: 1), null, null).File;
        byte[] parallel = ContainerKit.Write(samples, ContainerKit.Options(4096, maxDop: 4), null, null).File;
        Assert.That(parallel, Is.EqualTo(serial));
    }

    [Test]
    public void Write_ManyTinyAndEmptyTensors_RoundTrip()
    {
        var samples = new List<ContainerKit.Sample>();
        for (int i = 0; i < 500; i++)
        {
            byte[] data = i % 5 == 0 ? [] : BitConverter.GetBytes(i);
            long[] shape = data.Length == 0 ? [0, 3] : [];
            samples.Add(new ContainerKit.Sample($"layer.{i}.bias", data.Length == 0 ? DType.F16 : DType.I32, shape, data));
        }

        (byte[] file, _) = ContainerKit.Write(samples, ContainerKit.Options(4096), ContainerKit.FakeSafeTensorsHeader(10), new Dictionary<string, string>());
        using ContainerReader reader = ContainerKit.Open(file);
        Assert.That(reader.Tensors, Has.Count.EqualTo(500));
        Assert.That(reader.Metadata, Is.Empty);
        foreach (ContainerKit.Sample sample in samples)
        {
            Assert.That(reader.TryGetTensor(sample.Name, out ContainerEntry? entry), Is.True);
            Assert.That(entry!.Chunks, Has.Count.EqualTo(sample.Data.Length == 0 ? 0 : 1));
            Assert.That(reader.ReadTensor(entry), Is.EqualTo(sample.Data));
        }

        Assert.That(reader.TryGetTensor("missing", out _), Is.False);
    }

    [Test]
    public void WriteTensor_StreamSourceToNonSeekableOutput_RoundTrips()
    {
        byte[] data = ContainerKit.Smooth(new Random(3), 50_000 * 2);
        using var sink = new MemoryStream();
        using (var output = new ForwardOnlyStream(sink))
        using (var writer = new ContainerWriter(output, ContainerKit.Options(8192, maxDop: 2)))
        {
            ContainerTensorStats stats = writer.WriteTensor("w", DType.BF16, [250, 200], new MemoryStream(data), data.Length);
            Assert.That(stats.RawLength, Is.EqualTo(data.Length));
            Assert.That(stats.StoredLength, Is.LessThan(data.Length));
            Assert.That(stats.Codecs, Is.Not.Empty);
            writer.Complete(null, null);
        }

        using ContainerReader reader = ContainerKit.Open(sink.ToArray());
        Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(data));
        Assert.That(reader.Tensors[0].Chunks, Has.Count.EqualTo(13));
    }

    [Test]
    public void Open_FromPath_ReadsThroughRandomAccess()
    {
        string path = Path.Combine(Path.GetTempPath(), $"z4ai-{Guid.NewGuid():N}.z4ai");
        try
        {
            byte[] data = ContainerKit.Smooth(new Random(5), 40_000);
            using (FileStream file = File.Create(path))
            using (var writer = new ContainerWriter(file, ContainerKit.Options(4096)))
            {
                writer.WriteTensor("t", DType.F16, [20_000], data);
                writer.Complete(null, new Dictionary<string, string> { ["k"] = "v" });
            }

            using ContainerReader reader = ContainerReader.Open(path);
            Assert.That(reader.FilePath, Is.EqualTo(path));
            Assert.That(reader.FileLength, Is.EqualTo(new FileInfo(path).Length));
            Assert.That(reader.ReadTensor(reader.Tensors[0]), Is.EqualTo(data));
            Assert.That(reader.Metadata!["k"], Is.EqualTo("v"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Shared helpers for the container tests.</summary>
internal static class ContainerKit
{
    internal sealed record Sample(string Name, DType DType, long[] Shape, byte[] Data);

    public static ContainerWriterOptions Options(int chunkSize, int maxDop = 2, CompressionEffort effort = CompressionEffort.Fast) =>
        new() { ChunkSize = chunkSize, MinimumChunkSize = ContainerFormat.MinChunkSize, MaxDegreeOfParallelism = maxDop, Effort = effort };

    public static (byte[] File, List<ContainerTensorStats> Stats) Write(
        IEnumerable<Sample> samples, ContainerWriterOptions options, byte[]? header, IReadOnlyDictionary<string, string>? metadata)
    {
        using var output = new MemoryStream();
        var stats = new List<ContainerTensorStats>();
        using (var writer = new ContainerWriter(output, options))
        {
            foreach (Sample s in samples)
            {
                stats.Add(writer.WriteTensor(s.Name, s.DType, s.Shape, s.Data));
            }

            writer.Complete(header, metadata);
        }

        return (output.ToArray(), stats);
    }

    public static ContainerReader Open(byte[] file) => ContainerReader.Open(new MemoryStream(file, writable: false));

    public static long DataSectionLength(byte[] file)
    {
        long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(file.Length - ContainerFormat.FooterLength + 8));
        return indexOffset - ContainerFormat.HeaderLength;
    }

    /// <summary>A well-formed safetensors header prefix: 8-byte length, then that many bytes.</summary>
    public static byte[] FakeSafeTensorsHeader(int jsonLength)
    {
        byte[] header = new byte[8 + jsonLength];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)jsonLength);
        header.AsSpan(8).Fill((byte)' ');
        if (jsonLength >= 2)
        {
            header[8] = (byte)'{';
            header[9] = (byte)'}';
        }

        return header;
    }

    /// <summary>Bytes that compress: a slow random walk, like real weights' high bytes.</summary>
    public static byte[] Smooth(Random rng, int length)
    {
        byte[] data = new byte[length];
        int v = 0x3C00;
        for (int i = 0; i + 1 < length; i += 2)
        {
            v = Math.Clamp(v + rng.Next(-3, 4), 0x3000, 0x4000);
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i), (ushort)v);
        }

        return data;
    }

    public static List<Sample> RandomSamples(Random rng, DType[] dtypes, int maxTensors, int maxElements)
    {
        var samples = new List<Sample>();
        int count = rng.Next(0, maxTensors + 1);
        for (int i = 0; i < count; i++)
        {
            if (samples.Count > 0 && rng.Next(5) == 0)
            {
                // An exact repeat of an earlier tensor: must be stored once.
                Sample repeat = samples[rng.Next(samples.Count)];
                samples.Add(repeat with { Name = $"dup{i}" });
                continue;
            }

            DType dtype = dtypes[rng.Next(dtypes.Length)];
            int unit = dtype.BitSize() switch { 4 => 2, 6 => 4, _ => 1 };
            int elements = rng.Next(4) == 0 ? 0 : rng.Next(0, maxElements / unit + 1) * unit;
            long[] shape = elements == 1 && rng.Next(2) == 0 ? []
                : elements % (2 * unit) == 0 && elements > 0 ? [2, elements / 2]
                : [elements];
            if (shape.Length == 0 && unit != 1)
            {
                shape = [elements];
            }

            int bytes = (int)((long)elements * dtype.BitSize() / 8);
            byte[] data = rng.Next(3) switch
            {
                0 => new byte[bytes],
                1 => Smooth(rng, bytes),
                _ => RandomBytes(rng, bytes),
            };
            samples.Add(new Sample($"t{i}.{dtype.GetName()}", dtype, shape, data));
        }

        return samples;
    }

    public static byte[] RandomBytes(Random rng, int length)
    {
        byte[] data = new byte[length];
        rng.NextBytes(data);
        return data;
    }

    /// <summary>Assembles header + data + index + a footer with correct checksums, so tests can craft any index.</summary>
    public static byte[] Assemble(ReadOnlySpan<byte> data, ReadOnlySpan<byte> index, ushort version = ContainerFormat.Version)
    {
        byte[] file = new byte[8 + data.Length + index.Length + 40];
        "Z4AI"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), version);
        data.CopyTo(file.AsSpan(8));
        index.CopyTo(file.AsSpan(8 + data.Length));
        Span<byte> footer = file.AsSpan(file.Length - 40);
        "Z4AI"u8.CopyTo(footer);
        BinaryPrimitives.WriteUInt16LittleEndian(footer[4..], version);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], (ulong)(8 + data.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(footer[16..], (ulong)index.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[24..], XxHash3.HashToUInt64(index));
        BinaryPrimitives.WriteUInt64LittleEndian(footer[32..], XxHash3.HashToUInt64(footer[..32]));
        return file;
    }

    /// <summary>The stored index bytes of <paramref name="file"/> (packed or plain) and the footer flags.</summary>
    public static (byte[] Stored, ushort Flags, long Offset) StoredIndex(byte[] file)
    {
        ReadOnlySpan<byte> footer = file.AsSpan(file.Length - 40);
        long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]);
        long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        return (file.AsSpan((int)offset, (int)length).ToArray(), BinaryPrimitives.ReadUInt16LittleEndian(footer[6..]), offset);
    }

    /// <summary>The bytes the index takes in memory once read: its stored length, or its unpacked length when packed.</summary>
    public static long UnpackedIndexLength(byte[] file)
    {
        (byte[] stored, ushort flags, long offset) = StoredIndex(file);
        return (flags & ContainerFormat.FlagPackedIndex) == 0 ? stored.Length : ContainerIndexPacking.Unpack(stored, offset, ReadLimits.Default).Length;
    }

    /// <summary>The length <paramref name="file"/> would have with its index stored plain (not packed).</summary>
    public static long PlainLength(byte[] file)
    {
        (byte[] stored, ushort flags, long offset) = StoredIndex(file);
        if ((flags & ContainerFormat.FlagPackedIndex) == 0)
        {
            return file.Length;
        }

        ContainerIndex index = ContainerIndex.Parse(ContainerIndexPacking.Unpack(stored, offset, ReadLimits.Default), offset, unpacked: true);
        var plain = new System.Buffers.ArrayBufferWriter<byte>();
        ContainerIndex.Write(plain, index.ChunkSize, index.Entries, index.OriginalHeader, index.Metadata);
        return file.Length - stored.Length + plain.WrittenCount;
    }

    /// <summary>Replaces the stored index of <paramref name="file"/> and writes a footer (flags, length, checksums) for it.</summary>
    public static byte[] WithStoredIndex(byte[] file, ReadOnlySpan<byte> stored, ushort flags)
    {
        (_, _, long offset) = StoredIndex(file);
        byte[] result = new byte[offset + stored.Length + 40];
        file.AsSpan(0, (int)offset).CopyTo(result);
        stored.CopyTo(result.AsSpan((int)offset));
        ContainerFormat.WriteFooter(result.AsSpan(result.Length - 40), offset, stored.Length, ContainerFormat.Checksum(stored), flags);
        return result;
    }

    /// <summary>
    /// Edits the plain index of <paramref name="file"/>, unpacking and repacking it when it is packed (so tests can
    /// alter a recorded field and reseal every checksum, leaving only the check under test to catch it).
    /// </summary>
    public static byte[] EditIndex(byte[] file, Action<byte[]> edit)
    {
        (byte[] stored, ushort flags, long offset) = StoredIndex(file);
        if ((flags & ContainerFormat.FlagPackedIndex) == 0)
        {
            edit(stored);
            return WithStoredIndex(file, stored, flags);
        }

        byte[] plain = ContainerIndexPacking.Unpack(stored, offset, ReadLimits.Default);
        edit(plain);
        byte[] packed = ContainerIndexPacking.TryPack(plain, long.MaxValue)!;
        return WithStoredIndex(file, packed, flags);
    }

    /// <summary>Rewrites the footer of <paramref name="file"/> after its fields were edited.</summary>
    public static void ResealFooter(byte[] file)
    {
        Span<byte> footer = file.AsSpan(file.Length - 40);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[32..], XxHash3.HashToUInt64(footer[..32]));
    }
}

/// <summary>Builds index bytes field by field, independently of the production serialiser.</summary>
internal sealed class IndexBuilder
{
    private readonly List<byte> _bytes = [];

    public IndexBuilder U8(int value)
    {
        _bytes.Add((byte)value);
        return this;
    }

    public IndexBuilder U32(uint value)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.AddRange(b);
        return this;
    }

    public IndexBuilder U64(ulong value)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.AddRange(b);
        return this;
    }

    public IndexBuilder Var(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _bytes.Add((byte)value);
        return this;
    }

    public IndexBuilder Bytes(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public IndexBuilder Name(string name) => Var((ulong)System.Text.Encoding.UTF8.GetByteCount(name)).Bytes(System.Text.Encoding.UTF8.GetBytes(name));

    /// <summary>An entry header: name, dtype, shape, raw length, SHA-256 (of <paramref name="shaOf"/>).</summary>
    public IndexBuilder Entry(string name, DType dtype, long[] shape, long rawLength, ReadOnlySpan<byte> shaOf)
    {
        Name(name).U8((byte)dtype).Var((ulong)shape.Length);
        foreach (long d in shape)
        {
            Var((ulong)d);
        }

        return Var((ulong)rawLength).Bytes(SHA256.HashData(shaOf));
    }

    public IndexBuilder Chunk(long offset, ReadOnlySpan<byte> frame, int rawLength) =>
        Var((ulong)offset).Var((ulong)frame.Length).Var((ulong)rawLength).U8(frame[0]).U64(XxHash3.HashToUInt64(frame));

    public byte[] ToArray() => [.. _bytes];
}

/// <summary>A write-only stream that cannot seek or report its position, like a pipe.</summary>
internal sealed class ForwardOnlyStream(Stream inner) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
}
