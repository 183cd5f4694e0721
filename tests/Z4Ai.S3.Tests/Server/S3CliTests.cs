using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Cli;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Server;

/// <summary>The <c>z4ai registry</c> verbs on <c>s3://</c> locations, and <c>registry sync</c> both ways.</summary>
[NonParallelizable]
public sealed class S3CliTests : ServerTestBase
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-s3-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);

        // The CLI takes credentials from the standard AWS chain, as a user's shell would give them.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", S3TestServer.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", S3TestServer.SecretKey);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task RegistryVerbs_S3LocationAndSyncBothWays_RestoreByteForByte()
    {
        string endpoint = S3TestServer.Endpoint.ToString();
        string remote = $"s3://{BucketName}/cli-{Guid.NewGuid():N}";
        string basePath = Write("base.safetensors", 1);
        string ftPath = Write("ft.safetensors", 2);

        await Ok("registry", "init", remote, basePath, "--name", "base", "--endpoint", endpoint, "--quiet");
        await Ok("registry", "add", remote, ftPath, "--name", "ft", "--endpoint", endpoint, "--quiet");
        string list = await Ok("registry", "list", remote, "--endpoint", endpoint);
        Assert.That(list, Does.Contain("base").And.Contain("ft"));
        Assert.That(await Ok("registry", "verify", remote, "--endpoint", endpoint), Does.Contain("PASS"));
        string got = Path.Combine(_dir, "ft.out");
        await Ok("registry", "get", remote, "ft", "-o", got, "--endpoint", endpoint, "--quiet");
        Assert.That(Sha(got), Is.EqualTo(Sha(ftPath)));

        // s3 -> directory, then again: the second sync moves nothing.
        string local = Path.Combine(_dir, "local");
        Assert.That(await Ok("registry", "sync", remote, local, "--endpoint", endpoint), Does.Contain(", 0 already there"));
        Assert.That(await Ok("registry", "sync", remote, local, "--endpoint", endpoint), Does.Contain("0 blobs copied"));
        Assert.That(await Ok("registry", "verify", local), Does.Contain("PASS"));

        // directory -> another prefix, then read it back from there.
        string copy = $"s3://{BucketName}/copy-{Guid.NewGuid():N}";
        await Ok("registry", "sync", local, copy, "--endpoint", endpoint);
        string back = Path.Combine(_dir, "base.out");
        await Ok("registry", "get", copy, "base", "-o", back, "--endpoint", endpoint, "--quiet");
        Assert.That(Sha(back), Is.EqualTo(Sha(basePath)));
    }

    [Test]
    public async Task RegistryVerbs_BadS3Location_IsAUsageErrorNotACrash()
    {
        CliResult r = await Run("registry", "list", "s3://Bad_Bucket/x", "--endpoint", S3TestServer.Endpoint.ToString());
        Assert.That(r.ExitCode, Is.Not.Zero, r.ToString());
        Assert.That(r.Error, Does.Contain("bucket"), r.ToString());
        CliResult e = await Run("registry", "list", $"s3://{BucketName}/x", "--endpoint", "ftp://nowhere");
        Assert.That(e.ExitCode, Is.Not.Zero, e.ToString());
        Assert.That(e.Error, Does.Contain("endpoint"), e.ToString());
    }

    [Test]
    public async Task RegistryVerbs_WritersReuseTheRecordedProbe_UnlessReprobeIsGiven()
    {
        string endpoint = S3TestServer.Endpoint.ToString();
        string prefix = $"probe-{Guid.NewGuid():N}";
        string remote = $"s3://{BucketName}/{prefix}";
        await Ok("registry", "init", remote, Write("base.safetensors", 1), "--name", "base", "--endpoint", endpoint, "--quiet");
        using S3ObjectClient client = NewClient(prefix);
        DateTimeOffset ProbedAt() => S3CapabilityRecord.TryParse(client.GetAsync(S3CapabilityRecord.Key, 4096).GetAwaiter().GetResult())!.Value.Capabilities.ProbedAtUtc;
        DateTimeOffset first = ProbedAt();

        await Ok("registry", "add", remote, Write("ft.safetensors", 2), "--name", "ft", "--endpoint", endpoint, "--quiet");
        Assert.That(ProbedAt(), Is.EqualTo(first), "a fresh record is reused");
        await Ok("registry", "add", remote, Write("ft2.safetensors", 3), "--name", "ft2", "--parent", "base", "--endpoint", endpoint, "--quiet", "--reprobe");
        Assert.That(ProbedAt(), Is.GreaterThan(first), "--reprobe probes again and records the result");
    }

    private static async Task<string> Ok(params string[] args)
    {
        CliResult r = await Run(args);
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        return r.Output;
    }

    private static async Task<CliResult> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await Z4AiCli.RunAsync(args, output, error, () => new MemoryStream(), () => new MemoryStream());
        return new CliResult(code, output.ToString(), error.ToString());
    }

    private string Write(string fileName, int seed)
    {
        var rng = new Random(1);
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int l = 0; l < 3; l++)
        {
            float[] w = Enumerable.Range(0, 4096).Select(_ => (float)rng.NextDouble()).ToArray();
            if (seed != 1 && l == 1)
            {
                w[7] += 0.5f;
            }

            model[$"layers.{l}.weight"] = Tensor.FromArray<float>(DType.F32, [64, 64], w);
        }

        string path = Path.Combine(_dir, fileName);
        SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    private static string Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private sealed record CliResult(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }
}
