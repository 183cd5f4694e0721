namespace Z4Ai.Benchmarks.Corpus;

/// <summary>
/// A seeded xoshiro256** generator (state filled by SplitMix64), so the scenario data is the same on every machine
/// and every .NET version: <see cref="Random"/> promises neither.
/// </summary>
internal sealed class ScenarioRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double _spare;
    private bool _hasSpare;

    public ScenarioRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
    }

    /// <summary>A stable 64-bit seed for a named scenario (FNV-1a of the name mixed with the run seed).</summary>
    public static ulong SeedFor(string name, ulong runSeed)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash ^ (runSeed * 0x9E3779B97F4A7C15UL);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal deviate (Box–Muller; both outputs of a pair are used).</summary>
    public double NextGaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }

        // 1 - u keeps the logarithm's argument in (0, 1].
        double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - NextDouble()));
        double angle = 2.0 * Math.PI * NextDouble();
        _spare = radius * Math.Sin(angle);
        _hasSpare = true;
        return radius * Math.Cos(angle);
    }

    private static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
