namespace Z4Ai.Registry;

/// <summary>
/// The file names a version may hold and a sharding index may name: one plain path segment. Index files come from
/// anywhere, so a name that could leave the output directory (<c>..</c>, a rooted path, any separator, a drive
/// prefix) is rejected.
/// </summary>
internal static class SafeFileName
{
    public const int MaxLength = 255;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name is "." or ".." || name[0] == '.'
            || name.Trim().Length != name.Length || Path.IsPathRooted(name))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (c is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' || char.IsControl(c) || char.IsSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }
}
