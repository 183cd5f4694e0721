using System.Buffers;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// Builds an archive frame block by block: header, blocks (each coded independently and kept in its smallest
/// form), end byte, then the total length and SHA-256 of everything written. No I/O: the caller moves the bytes.
/// </summary>
internal sealed class ArchiveWriter : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly int _zstdLevel;
    private long _total;
    private int _modelBlocks;

    /// <summary>Prepares a writer for <paramref name="header"/>.</summary>
    public ArchiveWriter(ArchiveHeader header, int zstdLevel)
    {
        Header = header;
        _zstdLevel = zstdLevel;
    }

    /// <summary>The header every block is coded under.</summary>
    public ArchiveHeader Header { get; }

    /// <summary>The number of blocks coded with the model so far.</summary>
    public int ModelBlocks => _modelBlocks;

    /// <summary>
    /// Plans an archive for <paramref name="length"/> bytes whose first bytes are <paramref name="sample"/>: the
    /// preset (detected when Auto), the primer and the model's table sizes for the block size.
    /// </summary>
    public static ArchiveHeader Plan(ReadOnlySpan<byte> sample, long length, ArchiveOptions options)
    {
        ArchivePreset preset = options.Preset == ArchivePreset.Auto ? ContentSniffer.Detect(sample) : options.Preset;
        Primer? primer = options.UsePrimer ? Primer.ForPreset(preset) : null;
        int blockSize = (int)Math.Clamp(length, 1, options.BlockSize);
        var settings = ContextMixSettings.ForLength(preset, (primer?.Bytes.Length ?? 0) + (long)blockSize);
        return new ArchiveHeader(SymbolModels.ContextMix(settings, options.ModelVersion), primer, blockSize);
    }

    /// <summary>Codes a whole buffer into one archive (blocks in parallel when the options allow).</summary>
    public static void Encode(ReadOnlySpan<byte> data, ArchiveOptions options, IBufferWriter<byte> output)
    {
        // Plan from the first block only, as the stream form must, so both produce the same bytes.
        ArchiveHeader header = Plan(data[..Math.Min(data.Length, options.BlockSize)], data.Length, options);
        int blockSize = header.BlockSize;
        int blocks = data.IsEmpty ? 0 : (int)((data.Length + (long)blockSize - 1) / blockSize);
        var coded = new ArrayPoolBufferWriter<byte>[blocks];
        var methods = new ArchiveBlockMethod[blocks];
        try
        {
            if (blocks <= 1 || options.MaxDegreeOfParallelism == 1)
            {
                for (int b = 0; b < blocks; b++)
                {
                    coded[b] = new ArrayPoolBufferWriter<byte>();
                    methods[b] = EncodeBlock(Slice(data, b, blockSize), header, options.ZstdLevel, coded[b]);
                }
            }
            else
            {
                unsafe
                {
                    fixed (byte* pointer = data)
                    {
                        byte* p = pointer;
                        int length = data.Length;
                        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, b =>
                        {
                            var all = new ReadOnlySpan<byte>(p, length);
                            coded[b] = new ArrayPoolBufferWriter<byte>();
                            methods[b] = EncodeBlock(Slice(all, b, blockSize), header, options.ZstdLevel, coded[b]);
                        });
                    }
                }
            }

            // Without a model block the model and primer are dead weight in the header.
            bool anyModel = Array.IndexOf(methods, ArchiveBlockMethod.Model) >= 0;
            ArchiveHeader written = anyModel ? header : new ArchiveHeader(null, null, blockSize);
            written.Write(output);
            foreach (ArrayPoolBufferWriter<byte> block in coded)
            {
                output.Write(block.WrittenSpan);
            }

            WriteTrailer(output, data.Length, SHA256.HashData(data));
        }
        finally
        {
            foreach (ArrayPoolBufferWriter<byte>? block in coded)
            {
                block?.Dispose();
            }
        }
    }

    /// <summary>Writes the header (streaming use).</summary>
    public void WriteHeader(IBufferWriter<byte> output) => Header.Write(output);

    /// <summary>Codes the next block (streaming use).</summary>
    public ArchiveBlockMethod WriteBlock(ReadOnlySpan<byte> block, IBufferWriter<byte> output)
    {
        ArchiveBlockMethod method = EncodeBlock(block, Header, _zstdLevel, output);
        _hash.AppendData(block);
        _total += block.Length;
        if (method == ArchiveBlockMethod.Model)
        {
            _modelBlocks++;
        }

        return method;
    }

    /// <summary>Writes the end byte, the total length and the SHA-256 of every block written (streaming use).</summary>
    public void WriteTrailer(IBufferWriter<byte> output)
    {
        Span<byte> digest = stackalloc byte[ArchiveConstants.DigestLength];
        _hash.GetHashAndReset(digest);
        WriteTrailer(output, _total, digest);
    }

    /// <inheritdoc />
    public void Dispose() => _hash.Dispose();

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> data, int block, int blockSize)
    {
        int start = block * blockSize;
        return data.Slice(start, Math.Min(blockSize, data.Length - start));
    }

    private static ArchiveBlockMethod EncodeBlock(ReadOnlySpan<byte> block, ArchiveHeader header, int zstdLevel, IBufferWriter<byte> output)
    {
        ISymbolModel? model = header.Model is null ? null : PrimedModels.Get(header.Model, header.Primer, block.Length);
        return ArchiveBlocks.Encode(block, model, zstdLevel, output);
    }

    private static void WriteTrailer(IBufferWriter<byte> output, long total, ReadOnlySpan<byte> digest)
    {
        Span<byte> span = output.GetSpan(1 + VarInt.MaxLength + ArchiveConstants.DigestLength);
        span[0] = ArchiveConstants.EndOfBlocks;
        int n = 1 + VarInt.Write(span[1..], (ulong)total);
        digest.CopyTo(span[n..]);
        output.Advance(n + ArchiveConstants.DigestLength);
    }
}
