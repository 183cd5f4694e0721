namespace Z4Ai.Registry;

/// <summary>The key syntax every <see cref="IBlobStore"/> accepts (see its remarks).</summary>
internal static class BlobKeys
{
    public const int MaxLength = 1024;

    public static bool IsValid(string? key, bool allowPrefix = false)
    {
        if (string.IsNullOrEmpty(key))
        {
            return allowPrefix && key is not null;
        }

        if (key.Length > MaxLength)
        {
            return false;
        }

        int segmentStart = 0;
        for (int i = 0; i <= key.Length; i++)
        {
            if (i == key.Length || key[i] == '/')
            {
                int length = i - segmentStart;
                bool last = i == key.Length;
                if (length == 0)
                {
                    // Only a prefix may end with '/'.
                    if (!(allowPrefix && last && i > 0))
                    {
                        return false;
                    }
                }
                else if (key[segmentStart] == '.')
                {
                    return false;
                }

                segmentStart = i + 1;
                continue;
            }

            if (!IsKeyChar(key[i]))
            {
                return false;
            }
        }

        return true;
    }

    public static void ThrowIfInvalid(string key, string paramName)
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (!IsValid(key))
        {
            throw new ArgumentException(
                $"'{key}' is not a blob key: use segments of ASCII letters, digits and . _ - + = @ separated by '/', none empty or starting with '.'",
                paramName);
        }
    }

    public static void ThrowIfInvalidPrefix(string prefix, string paramName)
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        if (!IsValid(prefix, allowPrefix: true))
        {
            throw new ArgumentException($"'{prefix}' is not a key prefix", paramName);
        }
    }

    public static bool IsKeyChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-' or '+' or '=' or '@';
}
