using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Tests.Delta;

/// <summary>
/// Buffer-delta decoding on several threads: the same bytes as one thread for every chunk mode and awkward length,
/// and damage or a wrong reference still reported precisely, with nothing left in the destination.
/// </summary>
public class DeltaParallelDecodeTests
{
    private const int ChunkSize = 1024;

    // A target mixing the chunk modes: sparse steps, dense steps, an identical stretch and a random one.
    private static (byte[] Reference, byte[] Current) Mixed(int length, int seed)
    {
        var random = new Random(seed);
        int elements = length / 2;
        byte[] reference = DeltaTestData.GaussianBf16(elements, 0.02f, seed);
        byte[] current = (byte[])reference.Clone();
        for (int i = 0; i < elements; i++)
        {
            int region = i * 2 / ChunkSize % 4;
            double fraction = region switch { 0 => 0.01, 1 => 0.4, 2 => 0.0, _ => 1.0 };
            if (random.NextDouble() < fraction)
            {
                current[i * 2] = region == 3 ? (byte)random.Next(256) : (byte)(current[i * 2] ^ random.Next(1, 4));
            }
        }

        if (length % 2 == 1)
        {
            reference = [.. reference, 7];
            current = [.. current, 9];
        }

        return (reference, current);
    }

    private static Gen<int> AwkwardLengths() => Gen.OneOf(
        Gen.Elements(1, 2, ChunkSize - 2, ChunkSize - 1, ChunkSize, ChunkSize + 1, ChunkSize + 2, (7 * ChunkSize) + 3),
        Gen.Choose(1, 12 * ChunkSize));

    [Test]
    public void Decode_ParallelAwkwardLengths_MatchesSerialAndTarget()
    {
        Prop.ForAll(
            Arb.From(from length in AwkwardLengths() from seed in Gen.Choose(0, int.MaxValue) select (length, seed)),
            c =>
            {
                (byte[] reference, byte[] current) = Mixed(c.length, c.seed);
                DType dtype = c.length % 2 == 0 ? DType.BF16 : DType.U8;
                byte[] delta = BufferDelta.Encode(current, reference, dtype, CompressionEffort.Default, ChunkSize);
                byte[] serial = BufferDelta.Decode(delta, reference, parallelism: 1);
                byte[] parallel = BufferDelta.Decode(delta, reference, parallelism: 2);
                byte[] wide = BufferDelta.Decode(delta, reference, parallelism: 8);
                return serial.AsSpan().SequenceEqual(current) && parallel.AsSpan().SequenceEqual(current) && wide.AsSpan().SequenceEqual(current);
            }).Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    [Test]
    public void Decode_ManyChunksEveryMode_UsesEveryModeAndRoundTrips()
    {
        (byte[] reference, byte[] current) = Mixed(64 * ChunkSize, seed: 5);
        // A target longer than the reference: the chunks past its end are stored from scratch.
        byte[] longer = [.. current, .. DeltaTestData.GaussianBf16(3 * ChunkSize / 2, 0.5f, seed: 6)];
        byte[] delta = BufferDelta.Encode(longer, reference, DType.BF16, CompressionEffort.Default, ChunkSize);
        DeltaInfo info = BufferDelta.Inspect(delta);

        Assert.Multiple(() =>
        {
            foreach (DeltaChunkMode mode in new[] { DeltaChunkMode.Copy, DeltaChunkMode.Sparse, DeltaChunkMode.Scratch })
            {
                Assert.That(info.CountChunks(mode), Is.GreaterThan(0), mode.ToString());
            }

            Assert.That(info.CountChunks(DeltaChunkMode.Xor) + info.CountChunks(DeltaChunkMode.Subtract), Is.GreaterThan(0));
            Assert.That(BufferDelta.Decode(delta, reference, parallelism: 2), Is.EqualTo(longer));
            Assert.That(BufferDelta.Decode(delta, reference, parallelism: 1), Is.EqualTo(longer));
        });
    }

    [Test]
    public void DecodeValidated_ParallelCorruptSparseChunk_ThrowsNamingTheChunkAndStopsCleanly()
    {
        (byte[] reference, byte[] current) = Mixed(32 * ChunkSize, seed: 9);
        byte[] delta = BufferDelta.Encode(current, reference, DType.BF16, CompressionEffort.Default, ChunkSize);
        DeltaInfo info = BufferDelta.Inspect(delta);
        DeltaChunkInfo sparse = info.Chunks.Last(c => c.Mode == DeltaChunkMode.Sparse);

        // The stored payloads follow the header in chunk order, each after its mode byte and length varint: cut the
        // last sparse payload's coded stream short by overwriting its final bytes with a change count it cannot hold.
        long payloadEnd = info.HeaderLength;
        foreach (DeltaChunkInfo chunk in info.Chunks.Where(c => c.Index <= sparse.Index))
        {
            payloadEnd += 1 + (chunk.Mode == DeltaChunkMode.Copy ? 0 : Z4Ai.Internal.VarInt.GetLength((ulong)chunk.StoredLength)) + chunk.StoredLength;
        }

        byte[] damaged = (byte[])delta.Clone();
        for (long i = payloadEnd - Math.Min(4, sparse.StoredLength - 2); i < payloadEnd; i++)
        {
            damaged[i] ^= 0xA5;
        }

        byte[] destination = new byte[current.Length];
        DeltaHeader header = BufferDelta.Validate(damaged, reference);
        Exception? thrown = Assert.Catch(() => BufferDelta.DecodeValidated(damaged, header, reference, destination, parallelism: 2));
        Assert.That(thrown, Is.TypeOf<Z4AiFormatException>().Or.TypeOf<Z4AiIntegrityException>());
        if (thrown is Z4AiFormatException format)
        {
            Assert.That(format.Message, Does.Contain($"sparse chunk {sparse.Index}"));
        }
        else
        {
            Assert.That(destination, Is.All.EqualTo(0), "a failed verification clears the destination");
        }
    }

    [Test]
    public void Decode_ParallelWrongReference_ThrowsReferenceMismatch()
    {
        (byte[] reference, byte[] current) = Mixed(16 * ChunkSize, seed: 11);
        byte[] delta = BufferDelta.Encode(current, reference, DType.BF16, CompressionEffort.Default, ChunkSize);
        byte[] wrong = (byte[])reference.Clone();
        wrong[5 * ChunkSize] ^= 1;

        var ex = Assert.Throws<Z4AiFormatException>(() => BufferDelta.Decode(delta, wrong, parallelism: 2));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
            Assert.That(ex.Message, Does.Contain(Sha256Digest.Compute(reference).ToString()));
        });
    }

    [Test]
    public void TryDecompress_WrongReferenceHashedWhileDecoding_ThrowsReferenceMismatchAndClearsDestination()
    {
        (byte[] reference, byte[] current) = Mixed(16 * ChunkSize, seed: 12);
        byte[] delta = DeltaCodec.Compress(current, reference, DType.BF16, new DeltaOptions { ChunkSize = ChunkSize });

        // Same length, one byte off where a sparse chunk reads it: the chunks decode to wrong bytes, yet the error
        // must be the reference mismatch, not the integrity failure those bytes cause.
        byte[] wrong = (byte[])reference.Clone();
        wrong[10] ^= 0x01;
        byte[] destination = new byte[current.Length + 5];
        destination.AsSpan().Fill(0xEE);
        var ex = Assert.Throws<Z4AiFormatException>(() => DeltaCodec.TryDecompress(delta, wrong, destination, out _));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.ReferenceMismatch));
            Assert.That(ex.Message, Does.Contain(Sha256Digest.Compute(wrong).ToString()));
            Assert.That(destination.AsSpan(0, current.Length).ToArray(), Is.All.EqualTo(0));
            Assert.That(DeltaCodec.TryDecompress(delta, reference, destination, out int written), Is.True);
            Assert.That(destination.AsSpan(0, written).SequenceEqual(current), Is.True);
        });
    }

    [Test]
    public void DecodeValidated_ParallelWrongTargetDigest_ClearsDestinationAndThrowsIntegrity()
    {
        (byte[] reference, byte[] current) = Mixed(16 * ChunkSize, seed: 13);
        byte[] delta = BufferDelta.Encode(current, reference, DType.BF16, CompressionEffort.Default, ChunkSize);
        DeltaHeader header = BufferDelta.Validate(delta, reference);

        // Decode against a reference that differs where a copied chunk reads it, skipping the reference check as a
        // model-level reader with a stale digest would: only the target's SHA-256 can catch it.
        byte[] stale = (byte[])reference.Clone();
        stale[(2 * ChunkSize) + 10] ^= 0x40;
        byte[] destination = new byte[current.Length];
        var ex = Assert.Throws<Z4AiIntegrityException>(() => BufferDelta.DecodeValidated(delta, header, stale, destination, parallelism: 2));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain(header.TargetDigest.ToString()));
            Assert.That(destination, Is.All.EqualTo(0));
        });
    }

    [Test]
    public void Decode_TruncatedDelta_ThrowsBeforeDecoding()
    {
        (byte[] reference, byte[] current) = Mixed(16 * ChunkSize, seed: 17);
        byte[] delta = BufferDelta.Encode(current, reference, DType.BF16, CompressionEffort.Default, ChunkSize);

        var ex = Assert.Throws<Z4AiFormatException>(() => BufferDelta.Decode(delta.AsSpan(0, delta.Length - 3), reference, parallelism: 2));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.CorruptFrame));
    }
}
