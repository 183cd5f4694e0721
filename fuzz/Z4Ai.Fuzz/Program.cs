// The Z4Ai fuzzing host (run by scripts/fuzz.sh under afl-fuzz, after SharpFuzz instrumented Z4Ai.dll).
//   Z4Ai.Fuzz TARGET             afl persistent mode: one input per iteration, from afl's shared memory
//   Z4Ai.Fuzz seed DIR           writes valid inputs for every target to DIR/TARGET/
//   Z4Ai.Fuzz dos DIR            writes the denial-of-service payloads (kept in tests/Z4Ai.Tests/TestData/hostile)
//   Z4Ai.Fuzz replay TARGET FILE...   runs files through a target outside afl (non-zero exit on a crash)
//   Z4Ai.Fuzz targets            lists the targets
using SharpFuzz;
using Z4Ai;
using Z4Ai.Fuzz;

if (args.Length == 0)
{
    Console.Error.WriteLine($"usage: Z4Ai.Fuzz TARGET | seed DIR | dos DIR | replay TARGET FILE... | targets   (targets: {string.Join(", ", FuzzTargets.Names)})");
    return 2;
}

switch (args[0])
{
    case "targets":
        Console.WriteLine(string.Join(Environment.NewLine, FuzzTargets.Names));
        return 0;
    case "seed" when args.Length == 2:
        using (var seedTargets = new FuzzTargets())
        {
            FuzzSeeds.Write(seedTargets, args[1]);
        }

        return 0;
    case "dos" when args.Length == 2:
        FuzzPayloads.Write(args[1]);
        return 0;
    case "replay" when args.Length >= 3:
        using (var targets = new FuzzTargets())
        {
            return Replay(targets, args[1], args.Skip(2));
        }

    default:
        string target = args[0];
        if (!FuzzTargets.Names.Contains(target))
        {
            Console.Error.WriteLine($"unknown target '{target}'; expected one of {string.Join(", ", FuzzTargets.Names)}");
            return 2;
        }

        // Instrumented code may only run once SharpFuzz has mapped afl's coverage map, so the targets (which write
        // the base model with the library) are created inside the first iteration.
        FuzzTargets? lazy = null;
        Fuzzer.Run(stream =>
        {
            lazy ??= new FuzzTargets();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            lazy.TryRun(target, memory.GetBuffer().AsSpan(0, (int)memory.Length));
        });
        lazy?.Dispose();
        return 0;
}

static int Replay(FuzzTargets targets, string target, IEnumerable<string> files)
{
    int crashes = 0;
    foreach (string file in files)
    {
        try
        {
            targets.Run(target, File.ReadAllBytes(file));
            Console.WriteLine($"accepted {Path.GetFileName(file)}");
        }
        catch (Z4AiException ex)
        {
            Console.WriteLine($"refused  {Path.GetFileName(file)}: {ex.Kind}: {ex.Message}");
        }
        catch (Exception ex)
        {
            crashes++;
            Console.WriteLine($"CRASH    {Path.GetFileName(file)}: {ex.GetType().Name}: {ex.Message}");
            Console.Error.WriteLine(ex);
        }
    }

    return crashes == 0 ? 0 : 1;
}
