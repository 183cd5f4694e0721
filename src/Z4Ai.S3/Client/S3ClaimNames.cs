using System.Security.Cryptography;

namespace Z4Ai.S3.Client;

/// <summary>
/// Names of write-once entries (log entries, publish claims): the UTC ticks, zero-padded so that names sort by
/// creation time, then 16 random hex digits so that two writers never pick the same name. Valid as a registry key
/// segment.
/// </summary>
internal static class S3ClaimNames
{
    public const string ClaimPrefix = "claims/";

    public static string NewEntryName(DateTimeOffset nowUtc)
    {
        Span<byte> random = stackalloc byte[8];
        RandomNumberGenerator.Fill(random);
        return $"{nowUtc.UtcTicks:D19}-{Convert.ToHexStringLower(random)}";
    }

    /// <summary>A log entry name: one key segment of ASCII letters, digits and <c>. _ - + = @</c>, not starting with '.'.</summary>
    public static bool IsValidEntryName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 255 || name[0] == '.')
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '=' or '@'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Where the claims for <paramref name="key"/> live: <c>claims/KEY/</c>.</summary>
    public static string ClaimFolder(string key) => ClaimPrefix + key + "/";
}
