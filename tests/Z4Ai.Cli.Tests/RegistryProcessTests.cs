using System.Diagnostics;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Cli.Demo;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// Safety with real processes: the CLI is started as a child (<c>dotnet Z4Ai.Cli.dll registry ...</c>) and killed
/// with SIGKILL at random instants while it adds a version, or run twice at once, or alongside gc. Afterwards the
/// registry must verify, list only complete versions, and restore each byte for byte. Set
/// <c>Z4AI_REGISTRY_KILLS</c> for a longer run (the default is 20 runs).
/// </summary>
[NonParallelizable]
public class RegistryProcessTests
{
    private string _dir = null!;
    private string _registry = null!;
    private List<string> _models = null!;
    private Dictionary<string, Tensor> _base = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "z4ai-registry-proc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var config = new DemoModelFamily.Config(Vocabulary: 2048, Hidden: 256, Layers: 1, Mlp: 512);
        Dictionary<string, Tensor> b = DemoModelFamily.CreateBase(config);
        _base = b;
        _models = [Save("base.safetensors", b)];
        for (int i = 0; i < 6; i++)
        {
            _models.Add(Save($"m{i}.safetensors", DemoModelFamily.CreateFineTune(b, 0.2 + (0.1 * i), (ulong)(10 + i))));
        }
    }

    [OneTimeTearDown]
    public void OneTimeTearDown() => Directory.Delete(_dir, recursive: true);

    [SetUp]
    public void SetUp()
    {
        _registry = Path.Combine(_dir, "zoo-" + Guid.NewGuid().ToString("N")[..8]);
        ModelRegistry.Init(new LocalBlobStore(_registry), _models[0], "base");
    }

    [Test]
    public async Task Add_KilledAtRandomInstants_LeavesOnlyCompleteVersionsThatVerifyAndRestore()
    {
        int kills = int.TryParse(Environment.GetEnvironmentVariable("Z4AI_REGISTRY_KILLS"), out int n) && n > 0 ? n : 20;
        var rng = new Random(20260124);

        // Calibrate: how long does one add take here, start-up included?
        var clock = Stopwatch.StartNew();
        (int code, string output) = await RunToEnd("registry", "add", _registry, _models[1], "--name", "calibration", "--parent", "base", "-q");
        Assert.That(code, Is.EqualTo(0), output);
        int window = (int)Math.Max(300, clock.ElapsedMilliseconds);

        var expected = new Dictionary<string, string> { ["base"] = _models[0], ["calibration"] = _models[1] };
        int killed = 0;
        int streak = 0;
        for (int i = 0; i < kills; i++)
        {
            // Fresh content every run, so every add does the full work (no run is all copies).
            string model = Save($"k{i}.safetensors", DemoModelFamily.CreateFineTune(_base, 0.3, (ulong)(1000 + i)));
            string name = $"k{i}";
            string parent = rng.Next(3) == 0 || expected.Count == 0 ? "base" : expected.Keys.ElementAt(rng.Next(expected.Count));
            using Process process = Start("registry", "add", _registry, model, "--name", name, "--parent", parent, "-q");
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            bool exited = process.WaitForExit(rng.Next(window));
            if (!exited)
            {
                process.Kill(entireProcessTree: true);
                killed++;
                streak++;
            }
            else
            {
                streak = 0;
            }

            // Keep the instants spread over a whole add even when the machine is slower than at calibration.
            if (streak >= 4)
            {
                window = window * 3 / 2;
                streak = 0;
            }


            await process.WaitForExitAsync();
            if (exited)
            {
                Assert.That(process.ExitCode, Is.EqualTo(0), await stderr);
            }

            // A killed add either published its version (complete) or not at all.
            if (File.Exists(Path.Combine(_registry, "manifests", name + ".json")))
            {
                expected[name] = model;
            }
        }

        TestContext.Out.WriteLine($"{kills} runs, {killed} killed, {expected.Count - 2} published; final window {window} ms");
        // Kill instants are uniform over one add's duration, so about half the runs die mid-way; a fifth is the floor.
        Assert.That(killed, Is.GreaterThanOrEqualTo(kills / 5), "runs were killed mid-way");
        await CheckRegistry(expected, verifyWithTheCli: true);

        (int gc, string gcOutput) = await RunToEnd("registry", "gc", _registry, "--grace", "0");
        Assert.That(gc, Is.EqualTo(0), gcOutput);
        Assert.That(Directory.Exists(Path.Combine(_registry, "tmp")) ? Directory.GetFiles(Path.Combine(_registry, "tmp")) : [], Is.Empty, "gc sweeps the killed writers' temporary files");
        await CheckRegistry(expected);
    }

    [Test]
    public async Task Add_TwoProcessesAtOnce_OneWinsOrBothSucceed_NothingLost()
    {
        using Process same1 = Start("registry", "add", _registry, _models[1], "--name", "same", "--parent", "base", "-q");
        using Process same2 = Start("registry", "add", _registry, _models[2], "--name", "same", "--parent", "base", "-q");
        using Process other1 = Start("registry", "add", _registry, _models[3], "--name", "a", "--parent", "base", "-q");
        using Process other2 = Start("registry", "add", _registry, _models[4], "--name", "b", "--parent", "base", "-q");
        var results = new List<(int Code, string Error)>();
        foreach (Process p in new[] { same1, same2, other1, other2 })
        {
            string error = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            results.Add((p.ExitCode, error));
        }

        Assert.That(results[2].Code, Is.EqualTo(0), results[2].Error);
        Assert.That(results[3].Code, Is.EqualTo(0), results[3].Error);
        (int Code, string Error)[] same = [results[0], results[1]];
        Assert.That(same.Count(r => r.Code == 0), Is.EqualTo(1), string.Join("\n", same));
        (int _, string loserError) = same.Single(r => r.Code != 0);
        Assert.That(loserError, Does.Contain("conflict").And.Contain("already exists"));
        string winner = results[0].Code == 0 ? _models[1] : _models[2];
        await CheckRegistry(new Dictionary<string, string> { ["base"] = _models[0], ["same"] = winner, ["a"] = _models[3], ["b"] = _models[4] });
    }

    [Test]
    public async Task Gc_RunningAlongsideAdds_NeverRemovesWhatAVersionNeeds()
    {
        var expected = new Dictionary<string, string> { ["base"] = _models[0] };
        for (int round = 0; round < 3; round++)
        {
            string victim = $"old{round}";
            Assert.That((await RunToEnd("registry", "add", _registry, _models[1 + round], "--name", victim, "--parent", "base", "-q")).Code, Is.EqualTo(0));
            Assert.That((await RunToEnd("registry", "rm", _registry, victim)).Code, Is.EqualTo(0));

            string name = $"new{round}";
            using Process add = Start("registry", "add", _registry, _models[4 + (round % 2)], "--name", name, "--parent", "base", "-q");
            await Task.Delay(50 * round);
            using Process gc = Start("registry", "gc", _registry, "--grace", "0");
            string addError = await add.StandardError.ReadToEndAsync();
            string gcError = await gc.StandardError.ReadToEndAsync();
            await add.WaitForExitAsync();
            await gc.WaitForExitAsync();
            Assert.That(add.ExitCode, Is.EqualTo(0), addError);
            Assert.That(gc.ExitCode, Is.EqualTo(0), gcError);
            expected[name] = _models[4 + (round % 2)];
            await CheckRegistry(expected);
        }

        (int code, string output) = await RunToEnd("registry", "gc", _registry, "--grace", "0");
        Assert.That(code, Is.EqualTo(0), output);
        await CheckRegistry(expected);
    }

    private async Task CheckRegistry(Dictionary<string, string> expected, bool verifyWithTheCli = false)
    {
        ModelRegistry registry = ModelRegistry.Open(new LocalBlobStore(_registry));
        if (verifyWithTheCli)
        {
            (int verify, string verifyOutput) = await RunToEnd("registry", "verify", _registry);
            Assert.That(verify, Is.EqualTo(0), verifyOutput);
            Assert.That(verifyOutput, Does.StartWith("integrity: PASS (SHA-256)"));
        }
        else
        {
            RegistryVerifyReport report = registry.Verify();
            Assert.That(report.Passed, Is.True, string.Join("\n", report.Issues));
        }

        Assert.That(registry.List().Select(v => v.Name), Is.EquivalentTo(expected.Keys));
        Assert.That(registry.List().All(v => v.Damage is null), Is.True);
        foreach ((string name, string path) in expected)
        {
            string output = Path.Combine(_dir, $"{name}-{Guid.NewGuid():N}.out");
            registry.Get(name, output);
            Assert.That(Sha(output), Is.EqualTo(Sha(path)), name);
            File.Delete(output);
        }
    }

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Z4Ai.Cli.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        Process process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }

    private static async Task<(int Code, string Output)> RunToEnd(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Z4Ai.Cli.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private string Save(string name, Dictionary<string, Tensor> model)
    {
        string path = Path.Combine(_dir, name);
        SafeTensorsCompat.SaveFile(model, path, new Dictionary<string, string> { ["format"] = "pt" }, new SaveOptions { Format = StorageFormat.SafeTensors });
        return path;
    }

    private static string Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
