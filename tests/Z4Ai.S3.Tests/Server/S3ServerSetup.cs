using NUnit.Framework;

namespace Z4Ai.S3.Tests.Server;

/// <summary>Starts (or finds) the real S3 server once for every test in this namespace.</summary>
[SetUpFixture]
public sealed class S3ServerSetup
{
    [OneTimeSetUp]
    public void StartServer()
    {
        try
        {
            S3TestServer.Start();
        }
        catch (InvalidOperationException ex)
        {
            // Fail, never skip: a missing server must be visible in the test counts.
            Assert.Fail(ex.Message);
        }

        TestContext.Progress.WriteLine($"S3 tests use {S3TestServer.Endpoint} (from {S3TestServer.Source})");
    }

    [OneTimeTearDown]
    public void StopServer() => S3TestServer.StopIfStartedHere();
}
