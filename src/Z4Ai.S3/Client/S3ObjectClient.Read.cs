using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;

namespace Z4Ai.S3.Client;

internal sealed partial class S3ObjectClient
{
    /// <summary>
    /// GET a whole object into memory and verify it: its length against what the server announced, and its SHA-256
    /// against <paramref name="expectedSha256"/>, or else against the digest Z4Ai recorded in its metadata.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="maxLength">Refuse larger objects before allocating (the size is untrusted).</param>
    /// <param name="expectedSha256">The digest the caller knows (lowercase hex), or null.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="Z4AiS3Exception"><see cref="S3FailureReason.ObjectNotFound"/>, or a transport failure.</exception>
    /// <exception cref="Z4AiIntegrityException">The bytes do not match the digest.</exception>
    /// <exception cref="Z4AiFormatException">The object is larger than <paramref name="maxLength"/>.</exception>
    public Task<byte[]> GetAsync(string key, long maxLength, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLength, (long)Array.MaxLength);
        string full = FullKey(key);
        return RunAsync(
            "get",
            full,
            async ct =>
            {
                using GetObjectResponse r = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = full }, ct).ConfigureAwait(false);
                long length = r.ContentLength;
                if (length < 0)
                {
                    throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, "get: the server did not announce the object's length", Bucket, full);
                }

                if (length > maxLength)
                {
                    throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"the object is {length} bytes, more than the {maxLength} allowed", $"s3://{Bucket}/{full}");
                }

                byte[] data = GC.AllocateUninitializedArray<byte>((int)length);
                int read = await ReadFullyAsync(r.ResponseStream, data, ct).ConfigureAwait(false);
                if (read != length || await r.ResponseStream.ReadAsync(new byte[1], ct).ConfigureAwait(false) != 0)
                {
                    // A short body is a broken connection in disguise: retry it like one.
                    throw new IOException($"get: the body had {(read != length ? read : "more than " + length)} bytes, {length} announced");
                }

                string actual = Convert.ToHexStringLower(SHA256.HashData(data));
                string? expected = expectedSha256 ?? NullIfEmpty(r.Metadata[Sha256MetadataHeader]);
                if (expected is not null && !string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                {
                    throw new Z4AiIntegrityException(full, expected.ToLowerInvariant(), actual, $"s3://{Bucket}/{full}");
                }

                return data;
            },
            cancellationToken);
    }

    /// <summary>
    /// Ranged GET: reads bytes [offset, offset + destination.Length) of an object into <paramref name="destination"/>;
    /// fewer only when the object ends first (0 at or past its end). Only those bytes travel (the Range header);
    /// a server that ignores Range is detected and its whole answer skipped through, never misread.
    /// </summary>
    /// <returns>The number of bytes read.</returns>
    /// <exception cref="Z4AiS3Exception"><see cref="S3FailureReason.ObjectNotFound"/>, or a transport failure.</exception>
    public Task<int> ReadRangeAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        string full = FullKey(key);
        if (destination.IsEmpty)
        {
            return Task.FromResult(0);
        }

        (long first, long last) = S3Range.ForRequest(offset, destination.Length)!.Value;
        return RunAsync(
            "ranged get",
            full,
            async ct =>
            {
                GetObjectResponse r;
                try
                {
                    r = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = full, ByteRange = new ByteRange(first, last) }, ct).ConfigureAwait(false);
                }
                catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    // The offset is at or past the end.
                    return 0;
                }

                using (r)
                {
                    long skip = 0;
                    long expected;
                    if (r.HttpStatusCode == HttpStatusCode.PartialContent)
                    {
                        if (!S3Range.TryParseContentRange(r.ContentRange, out long gotFirst, out long gotLast, out _) || gotFirst != first || gotLast > last)
                        {
                            throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, $"ranged get: asked for bytes {first}-{last}, the server answered Content-Range '{r.ContentRange}'", Bucket, full);
                        }

                        expected = gotLast - gotFirst + 1;
                    }
                    else
                    {
                        // 200: the whole object. Skip to the offset and take what is there.
                        long total = r.ContentLength;
                        (long First, long Last)? clamp = S3Range.Clamp(offset, destination.Length, Math.Max(total, 0));
                        if (clamp is null)
                        {
                            return 0;
                        }

                        skip = offset;
                        expected = clamp.Value.Last - clamp.Value.First + 1;
                    }

                    await SkipAsync(r.ResponseStream, skip, ct).ConfigureAwait(false);
                    int read = await ReadFullyAsync(r.ResponseStream, destination[..(int)expected], ct).ConfigureAwait(false);
                    if (read != expected)
                    {
                        throw new IOException($"ranged get: the body ended after {read} of {expected} bytes");
                    }

                    return read;
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// GET a whole object as a stream that verifies its length and SHA-256 (the caller's, else the recorded one) when
    /// read to the end. Only the request is retried; a connection lost mid-stream surfaces to the reader.
    /// </summary>
    public Task<Stream> OpenReadAsync(string key, string? expectedSha256 = null, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        return RunAsync(
            "get",
            full,
            async ct =>
            {
                GetObjectResponse r = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = full }, ct).ConfigureAwait(false);
                string? expected = expectedSha256 ?? NullIfEmpty(r.Metadata[Sha256MetadataHeader]);
                return (Stream)new VerifyingReadStream(r.ResponseStream, r, r.ContentLength, expected?.ToLowerInvariant(), Bucket, full);
            },
            cancellationToken);
    }

    /// <summary>Hashes a whole object as it streams by, without holding it in memory.</summary>
    internal async Task<(long Length, string Sha256)> HashObjectAsync(string key, CancellationToken cancellationToken)
    {
        string full = FullKey(key);
        return await RunAsync(
            "get",
            full,
            async ct =>
            {
                using GetObjectResponse r = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = full }, ct).ConfigureAwait(false);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                byte[] buffer = new byte[1 << 16];
                long total = 0;
                int n;
                while ((n = await r.ResponseStream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }

                if (total != r.ContentLength)
                {
                    throw new IOException($"get: the body ended after {total} of {r.ContentLength} bytes");
                }

                return (total, Convert.ToHexStringLower(hash.GetHashAndReset()));
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> destination, CancellationToken ct)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int n = await stream.ReadAsync(destination[total..], ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static async Task SkipAsync(Stream stream, long count, CancellationToken ct)
    {
        if (count == 0)
        {
            return;
        }

        byte[] scratch = new byte[(int)Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int n = await stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(count, scratch.Length)), ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("ranged get: the body ended before the requested offset");
            }

            count -= n;
        }
    }
}
