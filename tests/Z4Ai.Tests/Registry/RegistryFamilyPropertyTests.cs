using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;

namespace Z4Ai.Tests.Registry;

/// <summary>
/// Random sequences of family operations (add a fine-tune, a checkpoint, an unchanged copy or a misfit of any
/// version; remove with or without force; collect garbage) against a model of what the registry should hold.
/// </summary>
public class RegistryFamilyPropertyTests
{
    [Test]
    public void RandomFamilyOperations_MatchTheModel_AndEveryVersionRestores()
    {
        Arbitrary<(int Seed, int[] Ops)> cases =
            (from seed in Gen.Choose(0, 1_000_000)
             from count in Gen.Choose(1, 8)
             from ops in Gen.Choose(0, 99).ArrayOf(count)
             from depth in Gen.Choose(1, 3)
             select (seed * 4 + depth, ops)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            string dir = RegistryTestData.TempDirectory();
            try
            {
                Run(dir, c.Seed, c.Ops);
                return true;
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(25));
    }

    private static void Run(string dir, int seed, int[] ops)
    {
        var rng = new Random(seed);
        var store = new MemoryBlobStore();
        var options = new RegistryOptions { MaxChainDepth = 1 + (seed % 4), ChunkSize = 4096, DeltaChunkSize = 1024 };
        var models = new Dictionary<string, Dictionary<string, Tensor>>(StringComparer.Ordinal);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var parents = new Dictionary<string, string?>(StringComparer.Ordinal);
        models["v0"] = RegistryTestData.Base(seed, layers: 1, hidden: 16);
        files["v0"] = RegistryTestData.Write(dir, "v0.safetensors", models["v0"]);
        parents["v0"] = null;
        ModelRegistry registry = ModelRegistry.Init(store, files["v0"], "v0", options);
        int next = 1;
        foreach (int op in ops)
        {
            string[] names = [.. models.Keys.Order(StringComparer.Ordinal)];
            if (op < 60)
            {
                string parent = names[rng.Next(names.Length)];
                string name = $"v{next++}";
                Dictionary<string, Tensor> model = (op % 4) switch
                {
                    0 => RegistryTestData.FineTune(models[parent], 0.1, rng.Next()),
                    1 => RegistryTestData.Checkpoint(models[parent], rng.Next()),
                    2 => models[parent],
                    _ => Misfit(models[parent], rng),
                };
                files[name] = RegistryTestData.Write(dir, name + ".safetensors", model);
                registry.Add(files[name], name, parent);
                models[name] = model;
                parents[name] = parent;
            }
            else if (op < 85 && names.Length > 1)
            {
                string victim = names.Where(n => n != "v0").ElementAt(rng.Next(names.Length - 1));
                bool force = rng.Next(2) == 0;
                bool hasChildren = parents.Any(p => models.ContainsKey(p.Key) && p.Value == victim);
                if (hasChildren && !force)
                {
                    var ex = Assert.Throws<Z4AiRegistryException>(() => registry.Remove(victim, force));
                    Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.Conflict));
                }
                else
                {
                    registry.Remove(victim, force);
                    models.Remove(victim);
                }
            }
            else
            {
                registry.Gc(TimeSpan.Zero);
            }
        }

        Assert.That(registry.List().Select(v => v.Name).Order(StringComparer.Ordinal), Is.EqualTo(models.Keys.Order(StringComparer.Ordinal)));
        foreach (string name in models.Keys)
        {
            string output = Path.Combine(dir, name + ".out");
            registry.Get(name, output);
            Assert.That(RegistryTestData.Sha(output), Is.EqualTo(RegistryTestData.Sha(files[name])), name);
        }

        registry.Gc(TimeSpan.Zero);
        RegistryVerifyReport report = registry.Verify();
        Assert.That(report.Passed, Is.True, string.Join("\n", report.Issues));
    }

    /// <summary>A version that fits the family badly: one tensor reshaped, one retyped, one new.</summary>
    private static Dictionary<string, Tensor> Misfit(Dictionary<string, Tensor> model, Random rng)
    {
        var result = new Dictionary<string, Tensor>(model, StringComparer.Ordinal);
        result["embed.weight"] = RegistryTestData.Bf16(rng, 128 * 16, [128, 16], 0.02);
        result["layers.0.norm.weight"] = Tensor.FromArray<double>(DType.F64, [16], Enumerable.Range(0, 16).Select(i => rng.NextDouble()).ToArray());
        result[$"extra.{rng.Next(3)}"] = RegistryTestData.F32(rng, 10, 0, 1);
        return result;
    }
}
