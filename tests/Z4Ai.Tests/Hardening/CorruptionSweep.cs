using System.Text;
using NUnit.Framework;

namespace Z4Ai.Tests.Hardening;

/// <summary>
/// Flips bits of (and truncates) a valid file and reads each variant back: every case must either raise a
/// <see cref="Z4AiException"/> (detected) or give output byte-identical to the original's (harmless). A different
/// output is a wrong tensor handed out, the one outcome that is never allowed; any other exception escapes.
/// </summary>
internal static class CorruptionSweep
{
    public static SweepResult FlipBits(byte[] original, Func<byte[], byte[]> read, IEnumerable<long>? bits = null)
    {
        byte[] expected = read(original);
        var result = new SweepResult("bit flips");
        byte[] work = (byte[])original.Clone();
        foreach (long bit in bits ?? Enumerable.Range(0, original.Length * 8).Select(b => (long)b))
        {
            int index = (int)(bit >> 3);
            byte mask = (byte)(1 << (int)(bit & 7));
            work[index] ^= mask;
            result.Record(Run(work, read, expected), $"bit {bit} (byte {index})");
            work[index] ^= mask;
        }

        return result;
    }

    public static SweepResult Truncate(byte[] original, Func<byte[], byte[]> read)
    {
        byte[] expected = read(original);
        var result = new SweepResult("truncations");
        for (int length = 0; length < original.Length; length++)
        {
            result.Record(Run(original.AsSpan(0, length).ToArray(), read, expected), $"length {length}");
        }

        return result;
    }

    /// <summary>Seeded sample of bit positions, for files too large to sweep whole.</summary>
    public static IEnumerable<long> SampleBits(int fileLength, int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            yield return random.NextInt64((long)fileLength * 8);
        }
    }

    private static Outcome Run(byte[] input, Func<byte[], byte[]> read, byte[] expected)
    {
        byte[] output;
        try
        {
            output = read(input);
        }
        catch (Z4AiException)
        {
            return Outcome.Detected;
        }

        return output.AsSpan().SequenceEqual(expected) ? Outcome.Harmless : Outcome.Wrong;
    }

    internal enum Outcome
    {
        Detected,
        Harmless,
        Wrong,
    }
}

/// <summary>Counts of one sweep; <see cref="AssertNoWrongOutput"/> fails with the first wrong cases.</summary>
internal sealed class SweepResult(string what)
{
    private readonly List<string> _wrong = [];
    private readonly List<string> _harmless = [];

    public int Cases { get; private set; }

    public int Detected { get; private set; }

    public int Harmless => _harmless.Count;

    public IReadOnlyList<string> HarmlessCases => _harmless;

    public void Record(CorruptionSweep.Outcome outcome, string where)
    {
        Cases++;
        switch (outcome)
        {
            case CorruptionSweep.Outcome.Detected: Detected++; break;
            case CorruptionSweep.Outcome.Harmless: _harmless.Add(where); break;
            default: _wrong.Add(where); break;
        }
    }

    public SweepResult AssertNoWrongOutput(string file)
    {
        TestContext.Out.WriteLine($"{file}: {Cases} {what}, {Detected} detected, {Harmless} harmless (identical output), {_wrong.Count} wrong");
        Assert.That(_wrong, Is.Empty, $"{file}: {_wrong.Count} {what} handed out different bytes, first at {string.Join(", ", _wrong.Take(10))}");
        return this;
    }

    /// <summary>Writes the harmless cases as byte offsets with their flipped bits, for the analysis in docs/reliability.md.</summary>
    public void ReportHarmless()
    {
        if (_harmless.Count > 0)
        {
            TestContext.Out.WriteLine($"  harmless: {string.Join(", ", _harmless.Take(60))}{(_harmless.Count > 60 ? ", ..." : "")}");
        }
    }

    public void AssertAllDetected(string file)
    {
        AssertNoWrongOutput(file);
        Assert.That(Detected, Is.EqualTo(Cases), $"{file}: undetected {what}: {string.Join(", ", _harmless.Take(10))}");
    }

    public override string ToString() => new StringBuilder().Append(Cases).Append(' ').Append(what).Append(", ").Append(Detected).Append(" detected").ToString();
}
