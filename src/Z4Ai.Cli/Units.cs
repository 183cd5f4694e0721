using System.Globalization;

namespace Z4Ai.Cli;

/// <summary>Formatting and parsing of sizes for humans.</summary>
internal static class Units
{
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    public static string Ratio(double ratio) => double.IsPositiveInfinity(ratio)
        ? "dedup"
        : string.Create(CultureInfo.InvariantCulture, $"{ratio:0.000}x");

    public static string Rate(long bytes, TimeSpan elapsed) => elapsed.TotalSeconds <= 0
        ? "-"
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / elapsed.TotalSeconds / 1e6:0.0} MB/s");

    /// <summary>Parses sizes such as <c>65536</c>, <c>64K</c>, <c>4M</c>, <c>1G</c> (binary multiples).</summary>
    public static int ParseSize(string text)
    {
        string t = text.Trim().ToUpperInvariant().TrimEnd('B').TrimEnd('I');
        long multiplier = 1;
        if (t.Length > 0 && "KMG".Contains(t[^1], StringComparison.Ordinal))
        {
            multiplier = t[^1] switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            t = t[..^1];
        }

        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value * multiplier > int.MaxValue)
        {
            throw new CliUsageException($"'{text}' is not a size (examples: 65536, 64K, 4M)");
        }

        return (int)(value * multiplier);
    }
}
