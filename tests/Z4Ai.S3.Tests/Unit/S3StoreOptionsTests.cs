using Amazon.Runtime;
using Amazon.S3;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

public sealed class S3StoreOptionsTests
{
    [Test]
    public void Defaults_AreSafeForSelfHostedServers()
    {
        var o = new S3StoreOptions();
        Assert.Multiple(() =>
        {
            Assert.That(o.ForcePathStyle, Is.True);
            Assert.That(o.MultipartThreshold, Is.EqualTo(64L << 20));
            Assert.That(o.MultipartPartSize, Is.EqualTo(16L << 20));
            Assert.That(o.MaxRetries, Is.EqualTo(4));
            Assert.That(o.EffectiveRegion, Is.EqualTo("us-east-1"));
        });
    }

    [Test]
    public void Setters_OutOfRange_Throw()
    {
        var o = new S3StoreOptions();
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MultipartPartSize = S3StoreOptions.MinimumPartSize - 1);
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MultipartThreshold = 1024);
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxRetries = -1);
            Assert.Throws<ArgumentOutOfRangeException>(() => o.RetryBaseDelay = TimeSpan.FromSeconds(-1));
            Assert.Throws<ArgumentOutOfRangeException>(() => o.RequestTimeout = TimeSpan.Zero);
            Assert.Throws<ArgumentOutOfRangeException>(() => o.ClaimStaleAfter = TimeSpan.Zero);
        });
    }

    [Test]
    public void FromEnvironment_Z4AiVariables_WinOverAwsOnes()
    {
        var env = new Dictionary<string, string>
        {
            ["Z4AI_S3_ENDPOINT"] = "http://127.0.0.1:7480",
            ["AWS_ENDPOINT_URL"] = "http://example.invalid:1",
            ["AWS_REGION"] = "eu-west-3",
            ["AWS_PROFILE"] = "ci",
        };
        S3StoreOptions o = S3StoreOptions.FromEnvironment(n => env.GetValueOrDefault(n));
        Assert.Multiple(() =>
        {
            Assert.That(o.Endpoint, Is.EqualTo(new Uri("http://127.0.0.1:7480")));
            Assert.That(o.Region, Is.EqualTo("eu-west-3"));
            Assert.That(o.ProfileName, Is.EqualTo("ci"));
        });
    }

    [Test]
    public void FromEnvironment_Nothing_LeavesAwsDefaults()
    {
        S3StoreOptions o = S3StoreOptions.FromEnvironment(_ => null);
        Assert.Multiple(() =>
        {
            Assert.That(o.Endpoint, Is.Null);
            Assert.That(o.Region, Is.Null);
            Assert.That(o.EffectiveRegion, Is.EqualTo(S3StoreOptions.DefaultRegion));
        });
    }

    [TestCase("ftp://host/")]
    [TestCase("127.0.0.1:7480")]
    [TestCase("http://host/?x=1")]
    [TestCase("")]
    public void ParseEndpoint_NotHttpUrl_Throws(string endpoint) =>
        Assert.Throws<ArgumentException>(() => S3StoreOptions.ParseEndpoint(endpoint));

    [Test]
    public void CreateConfig_CustomEndpoint_SetsEveryCompatibilitySetting()
    {
        var o = new S3StoreOptions { Endpoint = new Uri("http://127.0.0.1:7480"), Region = "r1", RequestTimeout = TimeSpan.FromSeconds(7) };
        AmazonS3Config c = S3ClientFactory.CreateConfig(o);
        Assert.Multiple(() =>
        {
            Assert.That(c.ServiceURL, Does.StartWith("http://127.0.0.1:7480"));
            Assert.That(c.ForcePathStyle, Is.True);
            Assert.That(c.AuthenticationRegion, Is.EqualTo("r1"));
            Assert.That(c.RequestChecksumCalculation, Is.EqualTo(RequestChecksumCalculation.WHEN_REQUIRED));
            Assert.That(c.ResponseChecksumValidation, Is.EqualTo(ResponseChecksumValidation.WHEN_REQUIRED));
            Assert.That(c.MaxErrorRetry, Is.Zero, "our retry policy is the only one");
            Assert.That(c.Timeout, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(c.UseHttp, Is.True);
        });
    }

    [Test]
    public void CreateConfig_NoEndpoint_UsesRegionEndpoint()
    {
        AmazonS3Config c = S3ClientFactory.CreateConfig(new S3StoreOptions { Region = "eu-central-1" });
        Assert.That(c.RegionEndpoint?.SystemName, Is.EqualTo("eu-central-1"));
    }
}
