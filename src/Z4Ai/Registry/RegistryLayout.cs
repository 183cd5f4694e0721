using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>
/// Where things live in a registry's <see cref="IBlobStore"/> (docs/registry-format.md, section 1) and what a
/// version name may be.
/// </summary>
internal static class RegistryLayout
{
    /// <summary>The registry record, created once by <c>Init</c>.</summary>
    public const string RootKey = "registry.json";

    public const string ManifestPrefix = "manifests/";

    public const string ManifestSuffix = ".json";

    public const string ObjectPrefix = "objects/";

    /// <summary>Temporary files of stores that keep them as blobs (the local directory store); swept by gc.</summary>
    public const string TempPrefix = "tmp/";

    /// <summary>The lock adds hold shared and gc holds exclusive.</summary>
    public const string LockName = "registry";

    public const int MaxVersionNameLength = 128;

    public static string ManifestKey(string name) => ManifestPrefix + name + ManifestSuffix;

    public static string ObjectKey(Sha256Digest id)
    {
        string hex = id.ToString();
        return ObjectPrefix + hex[..2] + "/" + hex;
    }

    public static bool TryParseManifestKey(string key, out string name)
    {
        name = string.Empty;
        if (!key.StartsWith(ManifestPrefix, StringComparison.Ordinal) || !key.EndsWith(ManifestSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        name = key[ManifestPrefix.Length..^ManifestSuffix.Length];
        return IsValidVersionName(name);
    }

    public static bool TryParseObjectKey(string key, out Sha256Digest id)
    {
        id = default;
        if (!key.StartsWith(ObjectPrefix, StringComparison.Ordinal) || key.Length != ObjectPrefix.Length + 3 + (Sha256Digest.Size * 2))
        {
            return false;
        }

        string hex = key[(ObjectPrefix.Length + 3)..];
        if (key[ObjectPrefix.Length + 2] != '/' || !key.AsSpan(ObjectPrefix.Length, 2).SequenceEqual(hex.AsSpan(0, 2)) || !IsLowerHex(hex))
        {
            return false;
        }

        return Sha256Digest.TryParse(hex, out id);
    }

    /// <summary>
    /// A version name is 1 to 128 ASCII letters, digits and <c>. _ - + = @</c>, starting with a letter or digit, so
    /// it is a valid key segment and file name everywhere.
    /// </summary>
    public static bool IsValidVersionName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxVersionNameLength || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!BlobKeys.IsKeyChar(c))
            {
                return false;
            }
        }

        return true;
    }

    public static void ThrowIfInvalidVersionName(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (!IsValidVersionName(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a version name: use 1 to {MaxVersionNameLength} ASCII letters, digits and . _ - + = @, starting with a letter or digit",
                paramName);
        }
    }

    /// <summary>Derives a version name from a file or directory name, or returns null when nothing usable is left.</summary>
    public static string? SuggestVersionName(string path)
    {
        string stem = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        foreach (string suffix in new[] { ".safetensors.index.json", ".safetensors", ".z4ai" })
        {
            if (stem.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && stem.Length > suffix.Length)
            {
                stem = stem[..^suffix.Length];
                break;
            }
        }

        var chars = new char[Math.Min(stem.Length, MaxVersionNameLength)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = BlobKeys.IsKeyChar(stem[i]) ? stem[i] : '-';
        }

        string name = new string(chars).TrimStart('.', '-', '_', '+', '=', '@');
        return IsValidVersionName(name) ? name : null;
    }

    private static bool IsLowerHex(string s)
    {
        foreach (char c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }
}
