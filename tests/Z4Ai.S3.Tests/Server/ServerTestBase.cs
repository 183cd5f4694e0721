using Amazon.S3;
using Amazon.S3.Model;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Server;

/// <summary>Gives each fixture its own fresh bucket on the real server and removes it afterwards.</summary>
public abstract class ServerTestBase
{
    protected string BucketName { get; private set; } = string.Empty;

    /// <summary>A raw SDK client with the same settings, for arranging states the Z4Ai client never creates.</summary>
    private protected AmazonS3Client Raw { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task CreateBucket()
    {
        BucketName = "z4ai-" + GetType().Name.ToLowerInvariant()[..Math.Min(20, GetType().Name.Length)] + "-" + Guid.NewGuid().ToString("N")[..8];
        Raw = S3ClientFactory.Create(S3TestServer.Options(), S3TestServer.Credentials);
        await Raw.PutBucketAsync(new PutBucketRequest { BucketName = BucketName });
    }

    [OneTimeTearDown]
    public async Task DeleteBucket()
    {
        if (Raw is null)
        {
            return;
        }

        try
        {
            string? token = null;
            do
            {
                ListObjectsV2Response page = await Raw.ListObjectsV2Async(new ListObjectsV2Request { BucketName = BucketName, ContinuationToken = token });
                foreach (S3Object o in page.S3Objects ?? [])
                {
                    await Raw.DeleteObjectAsync(BucketName, o.Key);
                }

                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);

            ListMultipartUploadsResponse uploads = await Raw.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = BucketName });
            foreach (MultipartUpload u in uploads.MultipartUploads ?? [])
            {
                await Raw.AbortMultipartUploadAsync(BucketName, u.Key, u.UploadId);
            }

            await Raw.DeleteBucketAsync(BucketName);
        }
        finally
        {
            Raw.Dispose();
        }
    }

    private protected S3ObjectClient NewClient(string prefix = "reg", S3StoreOptions? options = null) =>
        S3ObjectClient.Create(options ?? S3TestServer.Options(), BucketName, prefix, S3TestServer.Credentials);

    protected static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
