using System.Security.Cryptography;

namespace Z4Ai.Codecs;

/// <summary>
/// Gathers what <c>Inspect</c> reports, chunk by chunk: each chunk's recipe and leaf streams, the field entropies of
/// the decoded bytes, and their SHA-256, which <see cref="Finish"/> checks.
/// </summary>
internal sealed class FrameInspection : IDisposable
{
    private readonly BufferFrameHeader _header;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly FieldHistogram? _fields;
    private readonly List<KeyValuePair<string, int>> _recipes = [];
    private readonly List<(string Path, string Coder, int Chunks, long Raw, long Encoded)> _streams = [];
    private readonly List<StreamBreakdown> _scratch = [];

    public FrameInspection(in BufferFrameHeader header)
    {
        _header = header;
        _fields = FieldHistogram.IsSupported(header.DType) ? new FieldHistogram(header.DType) : null;
    }

    /// <summary>Describes and decodes one chunk frame into <paramref name="raw"/> (exactly the chunk's length).</summary>
    public void Add(ReadOnlySpan<byte> frame, Span<byte> raw)
    {
        _scratch.Clear();
        string recipe = RecipeInspector.Inspect(frame, _scratch);
        TensorCodec.Decode(frame, raw);
        _hash.AppendData(raw);
        _fields?.Add(raw);

        int r = _recipes.FindIndex(p => p.Key == recipe);
        if (r < 0)
        {
            _recipes.Add(new KeyValuePair<string, int>(recipe, 1));
        }
        else
        {
            _recipes[r] = new KeyValuePair<string, int>(recipe, _recipes[r].Value + 1);
        }

        foreach (StreamBreakdown s in _scratch)
        {
            int i = _streams.FindIndex(x => x.Path == s.Path && x.Coder == s.Coder);
            if (i < 0)
            {
                _streams.Add((s.Path, s.Coder, 1, s.RawBytes, s.EncodedBytes));
            }
            else
            {
                (string path, string coder, int chunks, long rawBytes, long encoded) = _streams[i];
                _streams[i] = (path, coder, chunks + 1, rawBytes + s.RawBytes, encoded + s.EncodedBytes);
            }
        }
    }

    /// <summary>Checks the digest of everything added against <paramref name="expectedSha256"/> and builds the report.</summary>
    /// <exception cref="Z4AiIntegrityException">The digests differ.</exception>
    public CodecFrameInfo Finish(long frameLength, ReadOnlySpan<byte> expectedSha256)
    {
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        _hash.GetHashAndReset(actual);
        if (!actual.SequenceEqual(expectedSha256))
        {
            throw new Z4AiIntegrityException("buffer", Convert.ToHexStringLower(expectedSha256), Convert.ToHexStringLower(actual));
        }

        int bits = _header.DType.BitSize();
        long elements = bits == 0 ? 0 : _header.RawLength * 8 / bits;
        return new CodecFrameInfo
        {
            DType = _header.DType,
            Shape = _header.Shape,
            RawLength = _header.RawLength,
            FrameLength = frameLength,
            ChunkSize = _header.ChunkSize,
            ChunkCount = _header.ChunkCount,
            Sha256 = Convert.ToHexStringLower(expectedSha256),
            Recipes = _recipes.ToArray(),
            Streams = _streams.Select(s => new CodecStreamInfo(
                s.Path, s.Coder, s.Chunks, s.Raw, s.Encoded, elements == 0 ? 0 : s.Encoded * 8.0 / elements)).ToArray(),
            SignEntropyBits = _fields?.SignBits,
            ExponentEntropyBits = _fields?.ExponentBits,
            MantissaEntropyBits = _fields?.MantissaBits,
        };
    }

    public void Dispose() => _hash.Dispose();
}
