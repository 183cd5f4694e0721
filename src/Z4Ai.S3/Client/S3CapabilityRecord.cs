using System.Globalization;
using System.Text.Json;

namespace Z4Ai.S3.Client;

/// <summary>
/// The persisted result of a capability probe: <c>z4ai-s3/capabilities.json</c> under the registry's prefix, next to
/// <c>registry.json</c>. A small JSON object written with <see cref="System.Text.Json.Utf8JsonWriter"/> (no reflection,
/// so the package stays trimmable):
/// <c>{"format":"z4ai-s3-capabilities","version":1,"endpoint":"…","conditionalCreate":…,"conditionalReplace":…,
/// "rangedGet":…,"probedAtUtc":"…","notes":"…"}</c>. Anything else at that key is treated as no record.
/// </summary>
internal static class S3CapabilityRecord
{
    /// <summary>The record's key, relative to the store's prefix; hidden from registry listings.</summary>
    public const string Key = RecordPrefix + "capabilities.json";

    /// <summary>The folder of the adapter's own bookkeeping objects, relative to the prefix.</summary>
    public const string RecordPrefix = "z4ai-s3/";

    /// <summary>The largest record read back; a real one is a few hundred bytes.</summary>
    public const int MaxLength = 16 * 1024;

    private const string FormatName = "z4ai-s3-capabilities";
    private const int FormatVersion = 1;

    public static byte[] Serialize(S3Capabilities capabilities, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        ArgumentNullException.ThrowIfNull(endpoint);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", FormatName);
            json.WriteNumber("version", FormatVersion);
            json.WriteString("endpoint", endpoint);
            json.WriteBoolean("conditionalCreate", capabilities.ConditionalCreate);
            json.WriteBoolean("conditionalReplace", capabilities.ConditionalReplace);
            json.WriteBoolean("rangedGet", capabilities.RangedGet);
            json.WriteString("probedAtUtc", capabilities.ProbedAtUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("notes", capabilities.Notes);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Parses a record; null when the bytes are not a record of this format and version.</summary>
    public static (S3Capabilities Capabilities, string Endpoint)? TryParse(ReadOnlySpan<byte> bytes)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 4 });
            using JsonDocument doc = JsonDocument.ParseValue(ref reader);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !Is(root, "format", JsonValueKind.String) || root.GetProperty("format").GetString() != FormatName
                || !Is(root, "version", JsonValueKind.Number) || !root.GetProperty("version").TryGetInt32(out int version) || version != FormatVersion
                || !Is(root, "endpoint", JsonValueKind.String)
                || !Is(root, "probedAtUtc", JsonValueKind.String)
                || !DateTimeOffset.TryParseExact(root.GetProperty("probedAtUtc").GetString(), "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset probedAt)
                || !TryBool(root, "conditionalCreate", out bool create)
                || !TryBool(root, "conditionalReplace", out bool replace)
                || !TryBool(root, "rangedGet", out bool ranged))
            {
                return null;
            }

            string notes = Is(root, "notes", JsonValueKind.String) ? root.GetProperty("notes").GetString() ?? string.Empty : string.Empty;
            return (new S3Capabilities(create, replace, ranged, probedAt, notes), root.GetProperty("endpoint").GetString()!);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Why a stored record must not be trusted now, or null when it is fresh: older than <paramref name="maxAge"/>,
    /// dated more than a day in the future (a wrong clock), or probed through another endpoint.
    /// </summary>
    public static string? StaleReason(S3Capabilities capabilities, string recordedEndpoint, string endpoint, TimeSpan maxAge, DateTimeOffset now)
    {
        TimeSpan age = now - capabilities.ProbedAtUtc;
        if (age > maxAge)
        {
            return $"probed {FormatAge(age)} ago, more than {FormatAge(maxAge)}";
        }

        if (age < -TimeSpan.FromDays(1))
        {
            return $"dated {capabilities.ProbedAtUtc:O}, in the future";
        }

        if (!string.Equals(recordedEndpoint, endpoint, StringComparison.OrdinalIgnoreCase))
        {
            return $"probed through {recordedEndpoint}, not {endpoint}";
        }

        return null;
    }

    private static string FormatAge(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{t.TotalDays:0.#} days" : t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : $"{t.TotalSeconds:0} s";

    private static bool Is(JsonElement root, string name, JsonValueKind kind) =>
        root.TryGetProperty(name, out JsonElement e) && e.ValueKind == kind;

    private static bool TryBool(JsonElement root, string name, out bool value)
    {
        value = false;
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }

        value = e.GetBoolean();
        return true;
    }
}
