using Amazon.Runtime;
using NUnit.Framework;
using Z4Ai.S3.Tests.Server;

namespace Z4Ai.S3.Tests.Swift;

/// <summary>
/// The OpenStack Swift (s3api) server of the fallback tests, from Z4AI_SWIFT_ENDPOINT, Z4AI_SWIFT_ACCESS_KEY and
/// Z4AI_SWIFT_SECRET_KEY (scripts/s3-server/start-swift.sh writes them to its env.sh). When Z4AI_SWIFT_ENDPOINT is not
/// set the Swift tests are ignored with that reason; when it is set and the server does not answer, they fail.
/// </summary>
internal static class SwiftServer
{
    public static Uri Endpoint { get; private set; } = null!;

    public static BasicAWSCredentials Credentials { get; private set; } = null!;

    public static void Require()
    {
        string? endpoint = Environment.GetEnvironmentVariable("Z4AI_SWIFT_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            Assert.Ignore("Swift tests need Z4AI_SWIFT_ENDPOINT (with Z4AI_SWIFT_ACCESS_KEY and Z4AI_SWIFT_SECRET_KEY): run scripts/s3-server/start-swift.sh and source its env.sh");
        }

        string? key = Environment.GetEnvironmentVariable("Z4AI_SWIFT_ACCESS_KEY");
        string? secret = Environment.GetEnvironmentVariable("Z4AI_SWIFT_SECRET_KEY");
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(secret))
        {
            Assert.Fail("Z4AI_SWIFT_ENDPOINT is set but Z4AI_SWIFT_ACCESS_KEY or Z4AI_SWIFT_SECRET_KEY is not");
        }

        Endpoint = S3StoreOptions.ParseEndpoint(endpoint);
        Credentials = new BasicAWSCredentials(key, secret);
        if (!S3TestServer.Answers(Endpoint))
        {
            Assert.Fail($"Z4AI_SWIFT_ENDPOINT={Endpoint} is set but nothing answers there; start it with scripts/s3-server/start-swift.sh");
        }
    }

    public static S3StoreOptions Options() => new()
    {
        Endpoint = Endpoint,
        MaxRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        RetryMaxDelay = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromSeconds(60),
    };
}
