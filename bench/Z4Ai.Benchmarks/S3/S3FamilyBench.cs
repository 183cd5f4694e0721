using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Amazon.Runtime;
using Z4Ai.S3;

namespace Z4Ai.Benchmarks.S3;

/// <summary>
/// <c>s3-family [--mib 100] [--versions 4] [--effort fast] [--seed 1] [--keep]</c>: a bf16 model family (a base of
/// about MIB MiB plus VERSIONS consecutive training checkpoints, each the size of the base; the defaults make 500 MiB)
/// against an S3 server (<c>Z4AI_S3_ENDPOINT</c>, <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>, as written by
/// scripts/s3-server/start.sh; scripts/s3-server/bench-s3-family.sh starts and stops a Ceph RGW around it).
/// </summary>
/// <remarks>
/// The family is compressed into a local directory registry first (timed separately), then: upload of every stored
/// blob (<c>registry sync DIR s3://</c>'s path: HEAD, then a conditional PUT or a multipart upload per blob), download
/// of every blob (streamed and SHA-256 verified), <c>Get</c> of each version from the bucket (checked byte for byte),
/// and <c>GetTensor</c> of one large and one small tensor of the last version from a freshly opened store, with the
/// bytes that travelled compared with the sizes of the objects the tensor reads plus the version manifest. Every HTTP
/// request is counted by the SDK's HTTP client (<see cref="CountingHttpClientFactory"/>). One timed pass each.
/// </remarks>
public static class S3FamilyBench
{
    private const double MB = 1e6;

    public static int Run(string[] args)
    {
        int mib = 100;
        int versions = 4;
        int seed = 1;
        bool keep = false;
        var effort = CompressionEffort.Fast;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mib": mib = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--versions": versions = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--effort": effort = Enum.Parse<CompressionEffort>(args[++i], ignoreCase: true); break;
                case "--keep": keep = true; break;
            }
        }

        string? endpoint = Environment.GetEnvironmentVariable("Z4AI_S3_ENDPOINT");
        string? key = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        string? secret = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(endpoint) || string.IsNullOrEmpty(key) || string.IsNullOrEmpty(secret))
        {
            Console.Error.WriteLine("s3-family needs Z4AI_S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: run scripts/s3-server/bench-s3-family.sh, or start.sh and source its env.sh");
            return 2;
        }

        string root = Path.Combine(Path.GetTempPath(), "z4ai-bench-s3-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var options = new S3StoreOptions
        {
            Endpoint = S3StoreOptions.ParseEndpoint(endpoint),
            Region = Environment.GetEnvironmentVariable("Z4AI_S3_REGION"),
            RequestTimeout = TimeSpan.FromMinutes(5),
        };
        try
        {
            return Bench(root, mib, versions, seed, effort, options, new BasicAWSCredentials(key, secret), keep);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static int Bench(string root, int mib, int versions, int seed, CompressionEffort effort, S3StoreOptions options, AWSCredentials credentials, bool keep)
    {
        Console.WriteLine($"# s3-family: base {mib} MiB + {versions} checkpoints, effort {effort}, endpoint {options.Endpoint}, {Environment.ProcessorCount} cores, load {Load()}");

        // 1. The family, compressed into a local directory registry.
        var rng = new XorShift((ulong)seed);
        string local = Path.Combine(root, "local");
        var files = new List<(string Name, string Path, byte[] Sha)>();
        Dictionary<string, Tensor> model = CreateBase(mib, rng);
        var clock = Stopwatch.StartNew();
        ModelRegistry? localRegistry = null;
        long modelBytes = 0;
        for (int v = 0; v <= versions; v++)
        {
            string name = v == 0 ? "base" : $"ck{v}";
            if (v > 0)
            {
                model = Checkpoint(model, rng);
            }

            string path = Path.Combine(root, name + ".safetensors");
            SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
            files.Add((name, path, Sha(path)));
            modelBytes += new FileInfo(path).Length;
            var regOptions = new RegistryOptions { Effort = effort };
            if (localRegistry is null)
            {
                localRegistry = ModelRegistry.Init(new LocalBlobStore(local), path, name, regOptions);
            }
            else
            {
                localRegistry.Add(path, name, files[^2].Name);
            }

            Console.Error.Write($"\rcompressed {v + 1}/{versions + 1}   ");
        }

        Console.Error.WriteLine();
        double compressSeconds = clock.Elapsed.TotalSeconds;
        string largest = model.OrderByDescending(kv => kv.Value.ElementCount * kv.Value.DType.ElementSize()).First().Key;
        string smallest = model.OrderBy(kv => kv.Value.ElementCount * kv.Value.DType.ElementSize()).First().Key;
        long largestBytes = model[largest].ElementCount * model[largest].DType.ElementSize();
        long smallestBytes = model[smallest].ElementCount * model[smallest].DType.ElementSize();
        model = null!;

        var blobs = new LocalBlobStore(local);
        List<BlobInfo> stored = [.. blobs.ListAsync(string.Empty).ToBlockingEnumerable()];
        long storedBytes = stored.Sum(b => b.Length);
        Console.WriteLine();
        Console.WriteLine($"family: {files.Count} versions, {modelBytes / MB:0.0} MB of safetensors; registry: {stored.Count} blobs, {storedBytes / MB:0.0} MB ({(double)modelBytes / storedBytes:0.00}x); compressed locally in {compressSeconds:0.0} s");
        Console.WriteLine();

        var http = new CountingHttpClientFactory();
        string bucket = "z4ai-bench-" + Guid.NewGuid().ToString("N")[..8];
        using S3BlobStore remote = S3BlobStore.Create(options, bucket, "family", credentials, http);
        remote.EnsureBucketAsync().GetAwaiter().GetResult();
        S3ServerCapabilities caps = remote.EnsureCapabilitiesAsync().GetAwaiter().GetResult();
        _ = http.Drain();
        try
        {
            Console.WriteLine("| operation | bytes moved | time | throughput | HTTP requests |");
            Console.WriteLine("| --- | ---: | ---: | ---: | --- |");

            // 2. Upload every blob, objects first (as registry sync does).
            clock.Restart();
            foreach (BlobInfo b in stored.OrderBy(b => b.Key.StartsWith("objects/", StringComparison.Ordinal) ? 0 : b.Key.StartsWith("manifests/", StringComparison.Ordinal) ? 1 : 2).ThenBy(b => b.Key, StringComparer.Ordinal))
            {
                _ = remote.PutIfAbsentAsync(b.Key, async (output, ct) =>
                {
                    await using Stream input = await blobs.OpenReadAsync(b.Key, ct);
                    await input.CopyToAsync(output, ct);
                }).AsTask().GetAwaiter().GetResult();
            }

            double upload = clock.Elapsed.TotalSeconds;
            Row("upload (sync dir -> s3://)", storedBytes, upload, http.Drain());

            // 3. Download every blob, streamed and verified.
            clock.Restart();
            long downloaded = 0;
            byte[] buffer = new byte[1 << 20];
            foreach (BlobInfo b in stored)
            {
                using Stream s = remote.OpenReadAsync(b.Key).AsTask().GetAwaiter().GetResult();
                int n;
                while ((n = s.Read(buffer)) > 0)
                {
                    downloaded += n;
                }
            }

            Row("download (every blob, SHA-256 verified)", downloaded, clock.Elapsed.TotalSeconds, http.Drain());

            // 4. Get of each version from the bucket through a fresh store.
            foreach ((string name, string path, byte[] sha) in files)
            {
                var fresh = new CountingHttpClientFactory();
                using S3BlobStore reader = S3BlobStore.Create(options, bucket, "family", credentials, fresh);
                string output = Path.Combine(root, name + ".out");
                clock.Restart();
                ModelRegistry.Open(reader).Get(name, output);
                double seconds = clock.Elapsed.TotalSeconds;
                if (!Sha(output).AsSpan().SequenceEqual(sha))
                {
                    Console.Error.WriteLine($"{name}: restored bytes differ");
                    return 1;
                }

                long fileBytes = new FileInfo(output).Length;
                File.Delete(output);
                List<CountingHttpClientFactory.Request> requests = fresh.Drain();
                Row($"Get {name} (open + restore {fileBytes / MB:0.0} MB, verified)", requests.Sum(r => r.ResponseBytes), seconds, requests, $"; {fileBytes / MB / seconds:0.0} MB/s of model");
            }

            Console.WriteLine();
            Console.WriteLine("| GetTensor (last version, fresh store) | tensor raw | bytes moved | its objects + manifest | HTTP requests (open / tensor) |");
            Console.WriteLine("| --- | ---: | ---: | ---: | --- |");
            foreach ((string tensor, long raw) in new[] { (largest, largestBytes), (smallest, smallestBytes) })
            {
                var fresh = new CountingHttpClientFactory();
                using S3BlobStore reader = S3BlobStore.Create(options, bucket, "family", credentials, fresh);
                ModelRegistry registry = ModelRegistry.Open(reader);
                List<CountingHttpClientFactory.Request> open = fresh.Drain();
                Tensor t = registry.GetTensor(files[^1].Name, tensor);
                List<CountingHttpClientFactory.Request> read = fresh.Drain();
                if (t.ElementCount * t.DType.ElementSize() != raw)
                {
                    Console.Error.WriteLine($"{tensor}: {t.ElementCount * t.DType.ElementSize()} bytes, expected {raw}");
                    return 1;
                }

                string manifestKey = "manifests/" + files[^1].Name + ".json";
                string prefix = "/" + bucket + "/family/";
                var touched = read.Concat(open).Where(r => r.Method == "GET").Select(r => r.Path[prefix.Length..]).Distinct().ToList();
                long objectsBytes = touched.Where(k => k.StartsWith("objects/", StringComparison.Ordinal)).Sum(k => stored.Single(b => b.Key == k).Length);
                long manifestBytes = stored.Single(b => b.Key == manifestKey).Length;
                long moved = read.Sum(r => r.ResponseBytes) + open.Where(r => r.Path.EndsWith(manifestKey, StringComparison.Ordinal)).Sum(r => r.ResponseBytes);
                Console.WriteLine(
                    $"| {tensor} | {raw:N0} B | {moved:N0} B | {objectsBytes + manifestBytes:N0} B ({touched.Count(k => k.StartsWith("objects/", StringComparison.Ordinal))} objects {objectsBytes:N0} + manifest {manifestBytes:N0}) | {Describe(open)} / {Describe(read)} |");
            }

            Console.WriteLine();
            Console.WriteLine($"server capabilities: conditional create {caps.ConditionalCreate}, conditional replace {caps.ConditionalReplace}, ranged GET {caps.RangedGet}; load after the run {Load()}");
            return 0;
        }
        finally
        {
            if (!keep)
            {
                // Every object of the bucket, the store's own bookkeeping (capability record) included, then the bucket.
                using Amazon.S3.AmazonS3Client admin = Z4Ai.S3.Client.S3ClientFactory.Create(options, credentials);
                Amazon.S3.Model.ListObjectsV2Response page;
                do
                {
                    page = admin.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket }).GetAwaiter().GetResult();
                    foreach (Amazon.S3.Model.S3Object o in page.S3Objects ?? [])
                    {
                        admin.DeleteObjectAsync(bucket, o.Key).GetAwaiter().GetResult();
                    }
                }
                while (page.IsTruncated == true);

                admin.DeleteBucketAsync(bucket).GetAwaiter().GetResult();
            }
        }
    }

    private static void Row(string what, long bytes, double seconds, List<CountingHttpClientFactory.Request> requests, string extra = "") =>
        Console.WriteLine($"| {what} | {bytes / MB:0.0} MB | {seconds:0.00} s | {bytes / MB / seconds:0.0} MB/s{extra} | {Describe(requests)} |");

    private static string Describe(List<CountingHttpClientFactory.Request> requests) =>
        requests.Count == 0 ? "0" : $"{requests.Count}: " + string.Join(", ", requests.GroupBy(r => r.Method).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));

    private static string Load()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static byte[] Sha(string path)
    {
        using FileStream s = File.OpenRead(path);
        return SHA256.HashData(s);
    }

    /// <summary>Tensors of 1024 x 4096 bf16 values (8 MiB), roughly Gaussian, plus an fp32 norm vector per tensor.</summary>
    private static Dictionary<string, Tensor> CreateBase(int mib, XorShift rng)
    {
        int count = Math.Max(1, mib / 8);
        var model = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            var bits = new ushort[1024 * 4096];
            for (int j = 0; j < bits.Length; j++)
            {
                // Sum of four uniforms: close enough to a Gaussian for weight statistics, and fast.
                double g = (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 2.0) * 0.035;
                bits[j] = (ushort)(BitConverter.SingleToInt32Bits((float)g) >>> 16);
            }

            model[$"model.layers.{i}.mlp.weight"] = Tensor.FromArray<ushort>(DType.BF16, [1024, 4096], bits);
            float[] norm = new float[1024];
            for (int j = 0; j < norm.Length; j++)
            {
                norm[j] = 1f + ((float)rng.NextDouble() * 0.1f);
            }

            model[$"model.layers.{i}.norm.weight"] = Tensor.FromArray<float>(DType.F32, [1024], norm);
        }

        return model;
    }

    /// <summary>A training step: half of every bf16 value moves by one representable step; norms drift slightly.</summary>
    private static Dictionary<string, Tensor> Checkpoint(Dictionary<string, Tensor> model, XorShift rng)
    {
        var next = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach ((string name, Tensor t) in model)
        {
            if (t.DType == DType.BF16)
            {
                ushort[] bits = t.ToArray<ushort>();
                for (int j = 0; j < bits.Length; j++)
                {
                    ulong r = rng.Next();
                    if ((r & 1) != 0)
                    {
                        bits[j] = (ushort)(bits[j] + ((r & 2) != 0 ? 1 : -1));
                    }
                }

                next[name] = Tensor.FromArray<ushort>(DType.BF16, t.GetShape(), bits);
            }
            else
            {
                float[] values = t.ToArray<float>();
                for (int j = 0; j < values.Length; j++)
                {
                    values[j] += (float)((rng.NextDouble() - 0.5) * 1e-4);
                }

                next[name] = Tensor.FromArray<float>(DType.F32, t.GetShape(), values);
            }
        }

        return next;
    }

    private sealed class XorShift(ulong seed)
    {
        private ulong _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed;

        public ulong Next()
        {
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            return _state;
        }

        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
    }
}
