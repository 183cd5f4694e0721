using System.Text.Json;
using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// Many real <c>z4ai</c> processes on one registry at once: writers adding different versions (two of them racing
/// for the same name), readers running <c>registry get</c>, <c>get-tensor</c> and <c>list</c> in loops, and gc.
/// Nothing may be lost, the lost race is reported as a conflict (exit code and message), and every read either
/// fails cleanly with "no version" or returns exactly the bytes that were added, never a half-published version.
/// <c>Z4AI_CONCURRENCY_WRITERS</c> (default 4) sets how many distinct versions are added at once.
/// </summary>
[NonParallelizable]
public class RegistryConcurrencyTests
{
    private const int ReaderLoops = 3;

    private string _dir = null!;
    private Dictionary<string, Tensor> _base = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-concurrency-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _base = DemoModelFamily.CreateBase(new DemoModelFamily.Config(Vocabulary: 2048, Hidden: 256, Layers: 1, Mlp: 512));
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task AddReadGc_ManyProcessesAtOnce_NothingLostConflictReportedReadersSeeWholeVersions()
    {
        int writers = int.TryParse(Environment.GetEnvironmentVariable("Z4AI_CONCURRENCY_WRITERS"), out int n) && n > 0 ? n : 4;
        string registryDir = Path.Combine(_dir, "registry");
        string basePath = Save("base.safetensors", _base);
        ModelRegistry.Init(new LocalBlobStore(registryDir), basePath, "base");

        // Garbage for the concurrent gc: a version added and removed before the race starts.
        string old = Save("old.safetensors", DemoModelFamily.CreateFineTune(_base, 0.5, 3));
        Assert.That((await CliProcess.RunAsync("registry", "add", registryDir, old, "--name", "old", "--parent", "base", "-q")).ExitCode, Is.EqualTo(0));
        Assert.That((await CliProcess.RunAsync("registry", "rm", registryDir, "old")).ExitCode, Is.EqualTo(0));

        var models = new Dictionary<string, string>();
        for (int i = 0; i < writers; i++)
        {
            models[$"w{i}"] = Save($"w{i}.safetensors", DemoModelFamily.CreateFineTune(_base, 0.3, (ulong)(100 + i)));
        }

        string dupA = Save("dup-a.safetensors", DemoModelFamily.CreateFineTune(_base, 0.3, 200));
        string dupB = Save("dup-b.safetensors", DemoModelFamily.CreateFineTune(_base, 0.3, 201));
        string tensorName = _base.Keys.Order(StringComparer.Ordinal).First();
        var known = new HashSet<string>(models.Keys) { "base", "dup" };

        var writerProcesses = new List<(string Name, string Model, CliProcess Process)>();
        foreach ((string name, string model) in models)
        {
            writerProcesses.Add((name, model, CliProcess.Start("registry", "add", registryDir, model, "--name", name, "--parent", "base", "-q")));
        }

        writerProcesses.Add(("dup", dupA, CliProcess.Start("registry", "add", registryDir, dupA, "--name", "dup", "--parent", "base", "-q")));
        writerProcesses.Add(("dup", dupB, CliProcess.Start("registry", "add", registryDir, dupB, "--name", "dup", "--parent", "base", "-q")));
        using var gc = CliProcess.Start("registry", "gc", registryDir, "--grace", "0");

        Task<CliRun[]> writing = Task.WhenAll(writerProcesses.Select(w => w.Process.WaitAsync()));
        var stats = new ReadStats();
        Task[] readers = [.. Enumerable.Range(0, ReaderLoops).Select(r => ReadLoop(r, registryDir, models, dupA, dupB, tensorName, known, writing, stats))];
        CliRun[] results = await writing;
        await Task.WhenAll(readers);
        CliRun gcRun = await gc.WaitAsync();
        foreach ((string _, string _, CliProcess process) in writerProcesses)
        {
            process.Dispose();
        }

        // gc runs alongside: it either waited for the adds (registry lock) and finished, or it is told clearly.
        Assert.That(gcRun.ExitCode, Is.EqualTo(0), gcRun.ToString());
        for (int i = 0; i < writers; i++)
        {
            Assert.That(results[i].ExitCode, Is.EqualTo(0), $"{writerProcesses[i].Name}: {results[i]}");
        }

        CliRun[] dup = [results[writers], results[writers + 1]];
        Assert.That(dup.Count(r => r.ExitCode == 0), Is.EqualTo(1), "exactly one of two adds of the same name wins:\n" + string.Join("\n", dup.Select(d => d.ToString())));
        CliRun loser = dup.Single(r => r.ExitCode != 0);
        Assert.That(loser.ExitCode, Is.EqualTo(ExitCodes.BadInput), loser.ToString());
        Assert.That(loser.Error, Does.Contain("conflict").And.Contain("'dup'").And.Contain("already exists"), loser.ToString());
        string winner = dup[0].ExitCode == 0 ? dupA : dupB;

        var expected = new Dictionary<string, string>(models) { ["base"] = basePath, ["dup"] = winner };
        ModelRegistry registry = ModelRegistry.Open(new LocalBlobStore(registryDir));
        RegistryVerifyReport report = registry.Verify();
        Assert.That(report.Passed, Is.True, string.Join("\n", report.Issues));
        Assert.That(registry.List().Select(v => v.Name), Is.EquivalentTo(expected.Keys));
        foreach ((string name, string path) in expected)
        {
            string output = Path.Combine(_dir, $"final-{name}.safetensors");
            registry.Get(name, output);
            Assert.That(CliProcess.Sha(output), Is.EqualTo(CliProcess.Sha(path)), name);
        }

        // "dup" reads are checked against the winner only now; both candidates were accepted while racing.
        Assert.That(stats.DupReads.All(sha => sha == CliProcess.Sha(winner)), Is.True, "every read of 'dup' returned the winner's bytes");
        string summary = $"concurrency: {writers + 2} writers (1 conflict), 1 gc, {ReaderLoops} reader loops: {stats.Gets} get ({stats.GetsNotFound} not found), "
            + $"{stats.Tensors} get-tensor ({stats.TensorsNotFound} not found), {stats.Lists} list; every successful read byte-exact, 0 lost";
        TestContext.Out.WriteLine(summary);
        await TestContext.Progress.WriteLineAsync(summary);
        Assert.That(stats.Gets - stats.GetsNotFound, Is.GreaterThan(0), "some reads saw published versions");
    }

    /// <summary>
    /// Reads round after round while the writers run, then one more round (which must find every version the
    /// writers published). Each read either succeeds byte for byte or fails with exit code 2 and "no version".
    /// </summary>
    private async Task ReadLoop(
        int reader, string registryDir, Dictionary<string, string> models, string dupA, string dupB, string tensorName,
        HashSet<string> known, Task writing, ReadStats stats)
    {
        var names = models.Keys.Append("dup").ToArray();
        int round = 0;
        bool last = false;
        while (!last)
        {
            last = writing.IsCompleted;
            string name = names[(reader + round) % names.Length];
            string output = Path.Combine(_dir, $"read{reader}-{round}.safetensors");
            CliRun get = await CliProcess.RunAsync("registry", "get", registryDir, name, "-o", output, "-q");
            string[] leftovers = [.. Directory.GetFiles(_dir, $".read{reader}-{round}.safetensors*")];
            Assert.That(leftovers, Is.Empty, "a read leaves no temporary file behind");
            if (get.ExitCode == 0)
            {
                string sha = CliProcess.Sha(output);
                if (name == "dup")
                {
                    Assert.That(sha, Is.EqualTo(CliProcess.Sha(dupA)).Or.EqualTo(CliProcess.Sha(dupB)), "dup is one of the two candidates, whole");
                    lock (stats)
                    {
                        stats.DupReads.Add(sha);
                    }
                }
                else
                {
                    Assert.That(sha, Is.EqualTo(CliProcess.Sha(models[name])), $"get {name} is byte-exact");
                }

                File.Delete(output);
            }
            else
            {
                AssertNotFound(get, name);
                Assert.That(File.Exists(output), Is.False, "a failed get leaves no output file");
                Interlocked.Increment(ref stats.GetsNotFound);
            }

            Interlocked.Increment(ref stats.Gets);

            string tensorOutput = Path.Combine(_dir, $"tensor{reader}-{round}.bin");
            CliRun tensor = await CliProcess.RunAsync("registry", "get-tensor", registryDir, name, tensorName, "-o", tensorOutput);
            if (tensor.ExitCode == 0)
            {
                byte[] bytes = File.ReadAllBytes(tensorOutput);
                string source = name == "dup" ? (ReadTensor(dupA, tensorName).SequenceEqual(bytes) ? dupA : dupB) : models[name];
                Assert.That(bytes, Is.EqualTo(ReadTensor(source, tensorName)), $"get-tensor {name} is byte-exact");
                Assert.That(File.Exists(tensorOutput + ".partial"), Is.False, "get-tensor renamed its temporary file");
                File.Delete(tensorOutput);
            }
            else
            {
                AssertNotFound(tensor, name);
                Assert.That(File.Exists(tensorOutput) || File.Exists(tensorOutput + ".partial"), Is.False, "a failed get-tensor leaves no output file");
                Interlocked.Increment(ref stats.TensorsNotFound);
            }

            Interlocked.Increment(ref stats.Tensors);

            CliRun list = await CliProcess.RunAsync("registry", "list", registryDir, "--json");
            Assert.That(list.ExitCode, Is.EqualTo(0), list.ToString());
            using (JsonDocument json = JsonDocument.Parse(list.Output))
            {
                string[] listed = [.. json.RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("name").GetString()!)];
                Assert.That(listed, Is.SubsetOf(known), "list shows only the base and versions being added, whole");
            }

            Interlocked.Increment(ref stats.Lists);
            round++;
        }
    }

    private static void AssertNotFound(CliRun run, string name)
    {
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.BadInput), run.ToString());
        Assert.That(run.Error, Does.Contain($"there is no version '{name}'"), run.ToString());
    }

    private static byte[] ReadTensor(string path, string name) => SafeTensorsCompat.LoadFile(path)[name].Data.ToArray();

    private string Save(string name, Dictionary<string, Tensor> model)
    {
        string path = Path.Combine(_dir, name);
        SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    private sealed class ReadStats
    {
        public int Gets;
        public int GetsNotFound;
        public int Tensors;
        public int TensorsNotFound;
        public int Lists;

        public List<string> DupReads { get; } = [];
    }
}
