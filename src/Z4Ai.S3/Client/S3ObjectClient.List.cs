using System.Runtime.CompilerServices;
using Amazon.S3.Model;

namespace Z4Ai.S3.Client;

internal sealed partial class S3ObjectClient
{
    /// <summary>
    /// Lists the objects whose key starts with <paramref name="prefix"/> (relative to the client's prefix; empty for
    /// all), page by page (ListObjectsV2 continuation tokens), in the server's order (lexicographic on S3). Each page
    /// is one retried request. <see cref="S3ObjectInfo.Sha256"/> is null: LIST does not return metadata.
    /// </summary>
    public async IAsyncEnumerable<S3ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0)
        {
            ThrowIfInvalidKey(prefix, nameof(prefix));
        }

        string fullPrefix = Prefix + prefix;
        string? token = null;
        do
        {
            string? pageToken = token;
            ListObjectsV2Response page = await RunAsync(
                "list",
                fullPrefix,
                ct => _s3.ListObjectsV2Async(
                    new ListObjectsV2Request { BucketName = Bucket, Prefix = fullPrefix, ContinuationToken = pageToken, MaxKeys = ListPageSize },
                    ct),
                cancellationToken).ConfigureAwait(false);

            if (page.S3Objects is not null)
            {
                foreach (S3Object o in page.S3Objects)
                {
                    if (o.Key is null || !o.Key.StartsWith(fullPrefix, StringComparison.Ordinal))
                    {
                        continue;
                    }

                    yield return new S3ObjectInfo(RelativeKey(o.Key), o.Size ?? 0, ToUtc(o.LastModified), Unquote(o.ETag), null);
                }
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
            if (page.IsTruncated == true && string.IsNullOrEmpty(token))
            {
                throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, "list: the page is truncated but has no continuation token", Bucket, fullPrefix);
            }
        }
        while (token is not null);
    }
}
