using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Z4Ai.S3.Client;

internal sealed partial class S3ObjectClient
{
    /// <summary>
    /// Uploads in parts of <see cref="S3StoreOptions.MultipartPartSize"/> (raised to stay within 10,000 parts), each
    /// part retried on its own, so a transient failure costs one part, not the object. Nothing is visible until the
    /// completion; on failure the upload is aborted so no parts linger.
    /// </summary>
    private async Task UploadMultipartAsync(string full, S3UploadContent content, CancellationToken cancellationToken)
    {
        (long partSize, int partCount) = S3Range.PlanParts(content.Length, Options.MultipartPartSize, S3StoreOptions.MaximumPartCount);
        string uploadId = await RunAsync(
            "start multipart upload",
            full,
            async ct =>
            {
                var request = new InitiateMultipartUploadRequest { BucketName = Bucket, Key = full, ContentType = "application/octet-stream" };
                request.Metadata.Add(Sha256MetadataName, content.Sha256);
                InitiateMultipartUploadResponse r = await _s3.InitiateMultipartUploadAsync(request, ct).ConfigureAwait(false);
                return string.IsNullOrEmpty(r.UploadId)
                    ? throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, "start multipart upload: no upload id in the answer", Bucket, full)
                    : r.UploadId;
            },
            cancellationToken).ConfigureAwait(false);

        try
        {
            var parts = new List<PartETag>(partCount);
            for (int i = 0; i < partCount; i++)
            {
                long offset = i * partSize;
                long length = Math.Min(partSize, content.Length - offset);
                int number = i + 1;
                string etag = await RunAsync(
                    "upload part",
                    full,
                    async ct =>
                    {
                        var request = new UploadPartRequest
                        {
                            BucketName = Bucket,
                            Key = full,
                            UploadId = uploadId,
                            PartNumber = number,
                            PartSize = length,
                            InputStream = content.OpenRange(offset, length),
                            IsLastPart = number == partCount,
                            UseChunkEncoding = false,
                        };
                        try
                        {
                            UploadPartResponse r = await _s3.UploadPartAsync(request, ct).ConfigureAwait(false);
                            return string.IsNullOrEmpty(r.ETag)
                                ? throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, $"upload part {number}: no ETag in the answer", Bucket, full)
                                : r.ETag;
                        }
                        finally
                        {
                            request.InputStream.Dispose();
                        }
                    },
                    cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(number, etag));
            }

            await RunAsync(
                "complete multipart upload",
                full,
                async ct =>
                {
                    try
                    {
                        await _s3.CompleteMultipartUploadAsync(
                            new CompleteMultipartUploadRequest { BucketName = Bucket, Key = full, UploadId = uploadId, PartETags = parts },
                            ct).ConfigureAwait(false);
                    }
                    catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode is "NoSuchUpload")
                    {
                        // A retried completion whose first try succeeded (the answer was lost): the caller's HEAD
                        // checks that the object is there with the right size.
                    }

                    return true;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            S3Log.MultipartAborted(_logger, full, S3RetryPolicy.Describe(ex));
            try
            {
                await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = full, UploadId = uploadId }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception abortFailure) when (abortFailure is AmazonServiceException or HttpRequestException or IOException or OperationCanceledException)
            {
                // Best effort: a bucket lifecycle rule for incomplete uploads is the backstop (docs/s3.md).
            }

            throw;
        }
    }
}
