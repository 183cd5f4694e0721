using System.Text.RegularExpressions;
using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// Crash consistency with real processes: <c>z4ai registry add</c>, <c>registry gc</c> and <c>compress</c> are started
/// as children and killed with SIGKILL at seeded random instants. After every run the registry must verify, list
/// only complete versions and restore them byte for byte (all of them after a gc and at the end, the new one and a
/// random older one after an add or compress), and the compress output folder may hold only
/// a complete, verifying container under the final name or recognisable temporary files (<c>.NAME.GUID.tmp</c>).
/// <para>
/// <c>Z4AI_CRASH_KILLS</c> (default 30) is how many runs must be killed mid-way; <c>Z4AI_CRASH_SEED</c> picks the
/// sequence; <c>Z4AI_CRASH_SECONDS</c>, when set, stops a long run after that many seconds with the figures reached
/// (every check still made after every run). <c>scripts/crash.sh --kills 200 --seed 7</c> is the long run.
/// </para>
/// </summary>
[NonParallelizable]
public class CrashConsistencyTests
{
    private const int DefaultKills = 30;
    private const int DefaultSeed = 20261124;

    private static readonly Regex ContainerTemp = new(@"^\.model\.z4ai\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant);

    private string _dir = null!;
    private Dictionary<string, Tensor> _base = null!;

    private enum Operation
    {
        Add,
        Gc,
        Compress,
    }

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _base = DemoModelFamily.CreateBase(new DemoModelFamily.Config(Vocabulary: 2048, Hidden: 256, Layers: 1, Mlp: 512));
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task AddGcCompress_KilledAtSeededInstants_RegistryConsistentAndNoPartialFileLooksFinished()
    {
        int kills = FromEnvironment("Z4AI_CRASH_KILLS", DefaultKills);
        int seed = FromEnvironment("Z4AI_CRASH_SEED", DefaultSeed);
        int budgetSeconds = FromEnvironment("Z4AI_CRASH_SECONDS", 0);
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        var rng = new Random(seed);
        string registryDir = Path.Combine(_dir, "registry");
        string basePath = Save("base.safetensors", _base);
        ModelRegistry.Init(new LocalBlobStore(registryDir), basePath, "base");
        var expected = new Dictionary<string, string> { ["base"] = basePath };
        var parents = new Dictionary<string, string>();

        // Calibrate each operation once, run to its end: the kill instants are drawn from [0, duration).
        var window = new Dictionary<Operation, int>();
        string calibrationModel = Save("calibration.safetensors", DemoModelFamily.CreateFineTune(_base, 0.3, 999));
        window[Operation.Add] = Calibrate(await CliProcess.RunAsync("registry", "add", registryDir, calibrationModel, "--name", "calibration", "--parent", "base", "-q"));
        expected["calibration"] = calibrationModel;
        parents["calibration"] = "base";
        window[Operation.Compress] = Calibrate(await CliProcess.RunAsync("compress", calibrationModel, "-o", Path.Combine(_dir, "calibration.z4ai"), "-q"));
        window[Operation.Gc] = Calibrate(await CliProcess.RunAsync("registry", "gc", registryDir, "--grace", "0"));

        var killedBy = new Dictionary<Operation, int> { [Operation.Add] = 0, [Operation.Gc] = 0, [Operation.Compress] = 0 };
        var finishedBy = new Dictionary<Operation, int> { [Operation.Add] = 0, [Operation.Gc] = 0, [Operation.Compress] = 0 };
        int published = 0;
        int tempsLeft = 0;
        int killed = 0;
        int runs = 0;
        int restores = 0;
        bool budgetReached = false;
        while (killed < kills)
        {
            if (budgetSeconds > 0 && elapsed.Elapsed.TotalSeconds > budgetSeconds)
            {
                budgetReached = true;
                break;
            }

            Assert.That(runs, Is.LessThan((kills * 6) + 20), "too few runs were killed mid-way; the kill windows do not fit the operations");
            int draw = rng.Next(10);
            Operation op = draw < 5 ? Operation.Add : draw < 7 ? Operation.Gc : Operation.Compress;
            int instant = rng.Next(window[op]);
            string name = $"r{runs}";
            string? model = null;
            string parentOf = "base";
            string? compressDir = null;
            string[] args;
            switch (op)
            {
                case Operation.Add:
                    // Fresh content every run, so every add does the full work.
                    model = Save($"{name}.safetensors", DemoModelFamily.CreateFineTune(_base, 0.3, (ulong)(1000 + runs)));
                    parentOf = expected.Keys.ElementAt(rng.Next(expected.Count));
                    args = ["registry", "add", registryDir, model, "--name", name, "--parent", parentOf, "-q"];
                    break;
                case Operation.Gc:
                    // Give gc garbage to collect: remove a leaf version first (no other version names it as parent),
                    // when there are enough to spare.
                    string[] removable = [.. expected.Keys.Where(k => k != "base" && !parents.ContainsValue(k))];
                    if (removable.Length > 2)
                    {
                        string victim = removable[rng.Next(removable.Length)];
                        ModelRegistry.Open(new LocalBlobStore(registryDir)).Remove(victim);
                        expected.Remove(victim);
                        parents.Remove(victim);
                    }

                    args = ["registry", "gc", registryDir, "--grace", "0"];
                    break;
                default:
                    compressDir = Path.Combine(_dir, name);
                    Directory.CreateDirectory(compressDir);
                    args = ["compress", calibrationModel, "-o", Path.Combine(compressDir, "model.z4ai"), "-q"];
                    break;
            }

            using CliProcess process = CliProcess.Start(args);
            bool wasKilled = await process.KillAfterAsync(instant);
            runs++;
            if (wasKilled)
            {
                killed++;
                killedBy[op]++;

                // Still running at the instant: the run may take longer than the window (the machine got slower).
                window[op] += window[op] / 8;
            }
            else
            {
                CliRun run = await process.WaitAsync();
                Assert.That(run.ExitCode, Is.EqualTo(0), $"{process.Arguments}\n{run}");
                finishedBy[op]++;

                // Finished before the instant: pull the window towards the real duration, so the instants keep
                // spreading over whole runs as the load changes.
                window[op] = (int)Math.Max(300, (window[op] + run.Milliseconds) / 2);
            }

            if (op == Operation.Compress)
            {
                tempsLeft += CheckCompressOutput(compressDir!, calibrationModel, finishedNormally: !wasKilled);
                Directory.Delete(compressDir!, recursive: true);
            }
            else if (op == Operation.Add && ModelRegistry.Open(new LocalBlobStore(registryDir)).List().Any(v => v.Name == name))
            {
                // A killed add either published its version, complete, or nothing at all.
                expected[name] = model!;
                parents[name] = parentOf;
                published++;
            }
            else if (op == Operation.Add)
            {
                Assert.That(wasKilled, Is.True, "an add that finished published its version");
                File.Delete(model!);
            }

            // gc is the only operation that deletes, so after it every version is restored; after an add the new
            // version (if published) and one older one, drawn at random; verify re-hashes every object each time.
            string[] restore = op == Operation.Gc ? [.. expected.Keys]
                : op == Operation.Add && expected.ContainsKey(name) ? [name, expected.Keys.ElementAt(rng.Next(expected.Count))]
                : [expected.Keys.ElementAt(rng.Next(expected.Count))];
            restores += CheckRegistry(registryDir, expected, restore, $"run {runs - 1} ({process.Arguments}, {(wasKilled ? $"killed at {instant} ms" : "finished")})");
            if (wasKilled && killed % 10 == 0)
            {
                await TestContext.Progress.WriteLineAsync($"crash: {killed} killed of {runs} runs, {elapsed.Elapsed.TotalSeconds:0} s");
            }
        }

        // The CLI's own verify agrees, and a final gc sweeps every killed writer's temporary files.
        CliRun verify = await CliProcess.RunAsync("registry", "verify", registryDir);
        Assert.That(verify.ExitCode, Is.EqualTo(0), verify.ToString());
        Assert.That(verify.Output, Does.StartWith("integrity: PASS (SHA-256)"));
        CliRun gc = await CliProcess.RunAsync("registry", "gc", registryDir, "--grace", "0");
        Assert.That(gc.ExitCode, Is.EqualTo(0), gc.ToString());
        string tmp = Path.Combine(registryDir, "tmp");
        Assert.That(Directory.Exists(tmp) ? Directory.GetFiles(tmp) : [], Is.Empty, "gc sweeps the killed writers' temporary blobs");
        restores += CheckRegistry(registryDir, expected, [.. expected.Keys], "after the final gc");

        string summary = $"crash: seed {seed}, {(budgetReached ? $"stopped by the {budgetSeconds} s budget, " : string.Empty)}{runs} runs, {killed} killed (add {killedBy[Operation.Add]}, gc {killedBy[Operation.Gc]}, compress {killedBy[Operation.Compress]}), "
            + $"{runs - killed} finished (add {finishedBy[Operation.Add]}, gc {finishedBy[Operation.Gc]}, compress {finishedBy[Operation.Compress]}); "
            + $"{published} adds published, {expected.Count} versions at the end, {restores} byte-exact restores, 0 corrupted or lost; "
            + $"{tempsLeft} compress temp files left by kills; {elapsed.Elapsed.TotalSeconds:0} s; windows add {window[Operation.Add]} ms, gc {window[Operation.Gc]} ms, compress {window[Operation.Compress]} ms";
        TestContext.Out.WriteLine(summary);
        await TestContext.Progress.WriteLineAsync(summary);
        Assert.That(killedBy.Values.All(k => k > 0) || kills < 10 || budgetReached, Is.True, "every operation was killed at least once");
    }

    /// <summary>
    /// The compress output folder holds the final file only if it is complete (verifies and restores the input byte
    /// for byte); anything else must be a temporary file named so nobody takes it for output. Returns how many
    /// temporary files a kill left.
    /// </summary>
    private static int CheckCompressOutput(string directory, string input, bool finishedNormally)
    {
        string final = Path.Combine(directory, "model.z4ai");
        string[] names = [.. Directory.GetFiles(directory).Select(Path.GetFileName).Select(n => n!)];
        string[] temps = [.. names.Where(n => ContainerTemp.IsMatch(n))];
        Assert.That(names.Except(temps).Except(["model.z4ai"]), Is.Empty, "only the final name or a recognisable temporary name");
        if (finishedNormally)
        {
            Assert.That(File.Exists(final), Is.True, "a finished compress wrote its output");
            Assert.That(temps, Is.Empty, "a finished compress leaves no temporary file");
        }

        if (File.Exists(final))
        {
            VerifyReport report = Z4AiContainer.Verify(final);
            Assert.That(report.Passed, Is.True, "a file under the final name is complete: " + string.Join(", ", report.FailedTensors));
            string restored = Path.Combine(directory, "restored.safetensors");
            Z4AiContainer.Decompress(final, restored);
            Assert.That(CliProcess.Sha(restored), Is.EqualTo(CliProcess.Sha(input)), "the final file restores the input byte for byte");
        }

        return temps.Length;
    }

    private int CheckRegistry(string registryDir, Dictionary<string, string> expected, IEnumerable<string> restore, string context)
    {
        ModelRegistry registry = ModelRegistry.Open(new LocalBlobStore(registryDir));
        RegistryVerifyReport report = registry.Verify();
        Assert.That(report.Passed, Is.True, $"{context}: {string.Join("\n", report.Issues)}");
        IReadOnlyList<RegistryVersion> versions = registry.List();
        Assert.That(versions.Select(v => v.Name), Is.EquivalentTo(expected.Keys), context);
        Assert.That(versions.Where(v => v.Damage is not null).Select(v => v.Name), Is.Empty, context);
        int restored = 0;
        foreach (string name in restore.Distinct())
        {
            string output = Path.Combine(_dir, $"restore-{name}.safetensors");
            registry.Get(name, output);
            Assert.That(CliProcess.Sha(output), Is.EqualTo(CliProcess.Sha(expected[name])), $"{context}: version {name} restores byte for byte");
            File.Delete(output);
            restored++;
        }

        return restored;
    }

    private static int Calibrate(CliRun run)
    {
        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        return (int)Math.Max(300, run.Milliseconds);
    }

    private static int FromEnvironment(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int value) && value > 0 ? value : fallback;

    private string Save(string name, Dictionary<string, Tensor> model)
    {
        string path = Path.Combine(_dir, name);
        SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }
}
