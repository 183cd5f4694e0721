using NUnit.Framework;
using Z4Ai.Fuzz;

namespace Z4Ai.Tests.Hardening;

/// <summary>
/// Every file under TestData/hostile (the fuzzers' crashers, the reference's abuse files and the denial-of-service
/// payloads) replayed through every fuzz target, that is through every reader: only a Z4AiException may escape.
/// </summary>
[NonParallelizable]
public class HostileReplayTests
{
    private static readonly Dictionary<string, string> TargetByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".safetensors"] = "safetensors",
        [".z4ai"] = "container",
        [".frame"] = "codec",
        [".delta"] = "delta",
        [".z4delta"] = "z4delta",
        [".z4al"] = "z4al",
        [".json"] = "manifest",
        [".z4arc"] = "archive",
    };

    private FuzzTargets _targets = null!;

    private static string HostileDir => Path.Combine(AppContext.BaseDirectory, "TestData", "hostile");

    private static IEnumerable<string> HostileFiles() =>
        Directory.GetFiles(HostileDir).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal);

    [OneTimeSetUp]
    public void SetUp() => _targets = new FuzzTargets();

    [OneTimeTearDown]
    public void TearDown() => _targets.Dispose();

    [TestCaseSource(nameof(HostileFiles))]
    public void Replay_HostileFileThroughEveryReader_OnlyZ4AiExceptionEscapes(string fileName)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(HostileDir, fileName));
        foreach (string target in FuzzTargets.Names)
        {
            Assert.DoesNotThrow(() => _targets.TryRun(target, bytes), $"{fileName} through the {target} reader");
        }
    }

    /// <summary>A file's own reader refuses it, with the error kind its name starts with.</summary>
    [TestCaseSource(nameof(HostileFiles))]
    public void Replay_HostileFileThroughItsOwnReader_RefusedWithTheKindInItsName(string fileName)
    {
        Assert.That(TargetByExtension.TryGetValue(Path.GetExtension(fileName), out string? target), Is.True, $"no reader for {fileName}");
        byte[] bytes = File.ReadAllBytes(Path.Combine(HostileDir, fileName));
        Z4AiException? refused = null;
        try
        {
            _targets.Run(target!, bytes);
        }
        catch (Z4AiException ex)
        {
            refused = ex;
        }

        Assert.That(refused, Is.Not.Null, $"the {target} reader accepted {fileName}");
        string prefix = fileName[..fileName.IndexOf('_', StringComparison.Ordinal)];
        if (Enum.TryParse(prefix, out Z4AiErrorKind kind))
        {
            Assert.That(refused!.Kind, Is.EqualTo(kind), refused.Message);
        }
    }

    [Test]
    public void HostileDir_HoldsTheDenialOfServicePayloads()
    {
        string[] names = HostileFiles().ToArray();
        Assert.That(names.Count(n => n.Contains("_DoS", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(7));
        Assert.That(names, Has.Some.StartsWith("HeaderTooLarge_"));
        Assert.That(names, Has.Some.StartsWith("ValidationOverflow_"));
    }

    /// <summary>The committed payloads are exactly what the generator writes (so they can be remade and reviewed).</summary>
    [Test]
    public void DosPayloads_RegeneratedByTheFuzzHost_MatchTheCommittedFiles()
    {
        string dir = Path.Combine(_targets.ScratchDirectory, "dos");
        FuzzPayloads.Write(dir);
        foreach (string file in Directory.GetFiles(dir))
        {
            string committed = Path.Combine(HostileDir, Path.GetFileName(file));
            Assert.That(File.Exists(committed), Is.True, committed);
            Assert.That(File.ReadAllBytes(committed), Is.EqualTo(File.ReadAllBytes(file)), Path.GetFileName(file));
        }
    }

    /// <summary>The targets are not vacuous: every valid seed goes through its reader without an exception.</summary>
    [Test]
    public void Seeds_ThroughTheirOwnReader_AreAccepted()
    {
        string dir = Path.Combine(_targets.ScratchDirectory, "seeds-out");
        FuzzSeeds.Write(_targets, dir);
        foreach (string target in FuzzTargets.Names)
        {
            string[] seeds = Directory.GetFiles(Path.Combine(dir, target));
            Assert.That(seeds, Is.Not.Empty, target);
            foreach (string seed in seeds)
            {
                Assert.That(_targets.TryRun(target, File.ReadAllBytes(seed)), Is.True, $"{target}: {Path.GetFileName(seed)}");
            }
        }
    }

    /// <summary>A header with a million entries all on one range is refused without building a million tensors.</summary>
    [Test]
    public void Load_MillionOverlappingTensors_RefusedWithInvalidOffset()
    {
        byte[] payload = FuzzPayloads.OverlappingTensors(1_000_000);
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsCompat.Load(payload));
        Assert.That(ex!.Kind, Is.AnyOf(Z4AiErrorKind.InvalidOffset, Z4AiErrorKind.LimitExceeded));
    }
}
