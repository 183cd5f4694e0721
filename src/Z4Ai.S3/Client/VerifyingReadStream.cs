using System.Security.Cryptography;

namespace Z4Ai.S3.Client;

/// <summary>
/// A forward-only stream over a downloaded object that hashes what passes through and, at the end, checks the length
/// the server announced and the SHA-256 Z4Ai recorded: the last read throws instead of returning 0 if either is wrong,
/// so a consumer that reads to the end never accepts damaged bytes. Server-side checksums are not trusted.
/// </summary>
internal sealed class VerifyingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly IDisposable? _owner;
    private readonly long _expectedLength;
    private readonly string? _expectedSha256;
    private readonly string _bucket;
    private readonly string _key;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    public VerifyingReadStream(Stream inner, IDisposable? owner, long expectedLength, string? expectedSha256, string bucket, string key)
    {
        _inner = inner;
        _owner = owner;
        _expectedLength = expectedLength;
        _expectedSha256 = expectedSha256;
        _bucket = bucket;
        _key = key;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _expectedLength;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        int n = _inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        int n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n]);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            _inner.Dispose();
            _owner?.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _read += data.Length;
            if (_read > _expectedLength)
            {
                throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, $"the server sent more than the {_expectedLength} bytes it announced", _bucket, _key);
            }

            _hash.AppendData(data);
            return data.Length;
        }

        if (!_verified)
        {
            _verified = true;
            if (_read != _expectedLength)
            {
                throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, $"the download ended after {_read} of {_expectedLength} bytes", _bucket, _key);
            }

            if (_expectedSha256 is not null)
            {
                string actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
                if (!string.Equals(actual, _expectedSha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new Z4AiIntegrityException(_key, _expectedSha256, actual, $"s3://{_bucket}/{_key}");
                }
            }
        }

        return 0;
    }
}
