using Amazon.S3;
using Amazon.S3.Model;

namespace Z4Ai.S3.Client;

internal sealed partial class S3ObjectClient
{
    /// <summary>
    /// Stores an immutable, content-addressed object unless it is already there (put-if-absent), then verifies it.
    /// An existing object is compared, not trusted: a different size, or a different SHA-256 (the recorded one when
    /// it matches, else computed by downloading it), is a foreign object and an error; identical bytes are a no-op.
    /// The upload carries <c>If-None-Match: *</c> when the server honours it; racing writers of the same key write the
    /// same bytes, so on servers that ignore it the last identical write wins harmlessly. Objects above
    /// <see cref="S3StoreOptions.MultipartThreshold"/> go up in parts. After the upload a HEAD must report the size.
    /// </summary>
    /// <exception cref="Z4AiS3Exception"><see cref="S3FailureReason.ForeignObject"/>, or a transport failure.</exception>
    public async Task<PutImmutableOutcome> PutImmutableAsync(string key, S3UploadContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string full = FullKey(key);
        S3ObjectInfo? existing = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            await EnsureIdenticalAsync(key, existing, content, cancellationToken).ConfigureAwait(false);
            return PutImmutableOutcome.AlreadyPresent;
        }

        if (content.Length > Options.MultipartThreshold)
        {
            await UploadMultipartAsync(full, content, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            ConditionalWriteResult put = await PutAsync(full, content, Capabilities.ConditionalCreate ? "*" : null, null, cancellationToken).ConfigureAwait(false);
            if (!put.Succeeded)
            {
                // Another writer created it between our HEAD and PUT: it must hold the same bytes.
                S3ObjectInfo? now = await HeadAsync(key, cancellationToken).ConfigureAwait(false)
                    ?? throw new Z4AiS3Exception(S3FailureReason.Conflict, "put: the server refused the create, yet there is no object", Bucket, full, 412);
                await EnsureIdenticalAsync(key, now, content, cancellationToken).ConfigureAwait(false);
                return PutImmutableOutcome.AlreadyPresent;
            }
        }

        S3ObjectInfo? stored = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Length != content.Length || (stored.Sha256 is not null && stored.Sha256 != content.Sha256))
        {
            throw new Z4AiS3Exception(
                S3FailureReason.InvalidResponse,
                stored is null
                    ? "put: the upload was acknowledged but the object is not there"
                    : $"put: uploaded {content.Length} bytes (SHA-256 {content.Sha256}), the server holds {stored.Length} (SHA-256 {stored.Sha256 ?? "unrecorded"})",
                Bucket,
                full);
        }

        return PutImmutableOutcome.Created;
    }

    /// <summary>
    /// Creates an object only if the key is free (<c>If-None-Match: *</c>), the publish step of a version record.
    /// Exactly one of any number of racing creators succeeds. On servers without conditional PUT
    /// (<see cref="S3Capabilities.ConditionalCreate"/> false) the same guarantee comes from a write-once claim
    /// (<see cref="WithClaimAsync{T}"/>).
    /// </summary>
    /// <returns>Succeeded false when the key was taken (412/409): a lost race, not an error.</returns>
    public async Task<ConditionalWriteResult> TryCreateAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        S3UploadContent upload = S3UploadContent.FromMemory(content);
        if (Capabilities.ConditionalCreate)
        {
            return await PutAsync(full, upload, "*", null, cancellationToken).ConfigureAwait(false);
        }

        return await WithClaimAsync(
            key,
            async ct =>
            {
                if (await HeadAsync(key, ct).ConfigureAwait(false) is not null)
                {
                    return ConditionalWriteResult.Lost;
                }

                return await PutAsync(full, upload, null, null, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces an object only if it still has <paramref name="expectedETag"/> (<c>If-Match</c>, sent unquoted as
    /// Ceph RGW requires): compare-and-swap. Falls back to a claim on servers without conditional PUT.
    /// </summary>
    /// <returns>Succeeded false when the object changed or vanished since the ETag was read.</returns>
    public async Task<ConditionalWriteResult> TryReplaceAsync(string key, ReadOnlyMemory<byte> content, string expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(expectedETag);
        string full = FullKey(key);
        string etag = Unquote(expectedETag);
        S3UploadContent upload = S3UploadContent.FromMemory(content);
        if (Capabilities.ConditionalReplace)
        {
            return await PutAsync(full, upload, null, etag, cancellationToken).ConfigureAwait(false);
        }

        return await WithClaimAsync(
            key,
            async ct =>
            {
                S3ObjectInfo? now = await HeadAsync(key, ct).ConfigureAwait(false);
                if (now is null || now.ETag != etag)
                {
                    return ConditionalWriteResult.Lost;
                }

                return await PutAsync(full, upload, null, null, ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a small bookkeeping object of the store itself (the capability record) with a plain PUT, replacing any
    /// previous one. Never used for registry blobs, which are immutable.
    /// </summary>
    public async Task PutRecordAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ConditionalWriteResult result = await PutAsync(FullKey(key), S3UploadContent.FromMemory(content), null, null, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, "put: an unconditional PUT was refused as if it had a condition", Bucket, FullKey(key));
        }
    }

    /// <summary>One PUT (retried on transient failures), with optional conditions; a failed condition is a result.</summary>
    private Task<ConditionalWriteResult> PutAsync(string full, S3UploadContent content, string? ifNoneMatch, string? ifMatch, CancellationToken cancellationToken)
    {
        if (content.Length > S3StoreOptions.MaximumSinglePutSize)
        {
            throw new ArgumentOutOfRangeException(nameof(content), $"a single PUT carries at most {S3StoreOptions.MaximumSinglePutSize} bytes");
        }

        return RunAsync(
            "put",
            full,
            async ct =>
            {
                var request = new PutObjectRequest
                {
                    BucketName = Bucket,
                    Key = full,
                    InputStream = content.OpenRead(),
                    AutoCloseStream = true,

                    // aws-chunked encoding (streaming signatures with trailers) is not understood by every
                    // S3-compatible server; a plain signed body is.
                    UseChunkEncoding = false,
                    ContentType = "application/octet-stream",
                };
                request.Metadata.Add(Sha256MetadataName, content.Sha256);
                if (ifNoneMatch is not null)
                {
                    request.IfNoneMatch = ifNoneMatch;
                }

                if (ifMatch is not null)
                {
                    request.IfMatch = ifMatch;
                }

                try
                {
                    PutObjectResponse response = await _s3.PutObjectAsync(request, ct).ConfigureAwait(false);
                    return new ConditionalWriteResult(true, Unquote(response.ETag));
                }
                catch (AmazonS3Exception ex) when ((ifNoneMatch is not null || ifMatch is not null) && (IsPreconditionFailure(ex) || (ifMatch is not null && ex.ErrorCode is "NoSuchKey")))
                {
                    return ConditionalWriteResult.Lost;
                }
            },
            cancellationToken);
    }

    private async Task EnsureIdenticalAsync(string key, S3ObjectInfo existing, S3UploadContent content, CancellationToken cancellationToken)
    {
        string full = FullKey(key);
        if (existing.Length == content.Length && existing.Sha256 == content.Sha256)
        {
            return;
        }

        string actual = existing.Sha256 ?? "unrecorded";
        if (existing.Length == content.Length)
        {
            // No or a different recorded digest: the bytes decide (an object copied in by another tool has none).
            (long length, string sha) = await HashObjectAsync(key, cancellationToken).ConfigureAwait(false);
            if (length == content.Length && sha == content.Sha256)
            {
                return;
            }

            actual = sha;
        }

        throw new Z4AiS3Exception(
            S3FailureReason.ForeignObject,
            $"the key of an immutable Z4Ai object holds {existing.Length} bytes (SHA-256 {actual}), not the {content.Length} bytes (SHA-256 {content.Sha256}) Z4Ai stores there; "
            + "it was written by something else or is damaged: move it away and retry",
            Bucket,
            full);
    }
}
