namespace Z4Ai.S3.Client;

/// <summary>
/// Range arithmetic for ranged GETs. HTTP ranges are inclusive (<c>bytes=first-last</c>); the rest of Z4Ai speaks in
/// (offset, length). Keeping the conversion in one place keeps the off-by-one in one place.
/// </summary>
internal static class S3Range
{
    /// <summary>
    /// The inclusive byte range that reads <paramref name="length"/> bytes at <paramref name="offset"/> from an object
    /// of <paramref name="objectLength"/> bytes, clamped to its end; null when nothing is to be read (zero length, or
    /// an offset at or past the end).
    /// </summary>
    public static (long First, long Last)? Clamp(long offset, long length, long objectLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegative(objectLength);
        if (length == 0 || offset >= objectLength)
        {
            return null;
        }

        long available = objectLength - offset;
        long take = Math.Min(length, available);
        return (offset, offset + take - 1);
    }

    /// <summary>The inclusive range for (offset, length) without knowing the object's size; null for zero length.</summary>
    public static (long First, long Last)? ForRequest(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            return null;
        }

        // Saturate: a request past long.MaxValue cannot exist, and the server clamps the last byte to the object end.
        long last = length - 1 > long.MaxValue - offset ? long.MaxValue : offset + length - 1;
        return (offset, last);
    }

    /// <summary>The HTTP header value for an inclusive range.</summary>
    public static string ToHeader(long first, long last)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfLessThan(last, first);
        return $"bytes={first}-{last}";
    }

    /// <summary>
    /// Parses a <c>Content-Range: bytes first-last/total</c> value (total may be <c>*</c>). Returns false for anything
    /// else, including ranges that end before they start.
    /// </summary>
    public static bool TryParseContentRange(string? value, out long first, out long last, out long? total)
    {
        first = last = 0;
        total = null;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        ReadOnlySpan<char> s = value.AsSpan().Trim();
        if (!s.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        s = s[6..].Trim();
        int dash = s.IndexOf('-');
        int slash = s.IndexOf('/');
        if (dash <= 0 || slash <= dash + 1)
        {
            return false;
        }

        if (!TryParseNonNegative(s[..dash], out first) || !TryParseNonNegative(s[(dash + 1)..slash], out last) || last < first)
        {
            return false;
        }

        ReadOnlySpan<char> t = s[(slash + 1)..];
        if (t is "*")
        {
            return true;
        }

        if (!TryParseNonNegative(t, out long parsedTotal) || parsedTotal <= last)
        {
            return false;
        }

        total = parsedTotal;
        return true;
    }

    /// <summary>Splits <paramref name="length"/> bytes into parts of <paramref name="partSize"/>, growing the part
    /// size so that there are at most <paramref name="maxParts"/>; the last part may be shorter.</summary>
    public static (long PartSize, int PartCount) PlanParts(long length, long partSize, int maxParts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxParts);
        long minimum = (length + maxParts - 1) / maxParts;
        long size = Math.Max(partSize, minimum);
        long count = (length + size - 1) / size;
        return (size, checked((int)count));
    }

    private static bool TryParseNonNegative(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (char c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}
