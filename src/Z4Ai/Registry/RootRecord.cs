using System.Text.Json;

namespace Z4Ai.Registry;

/// <summary>
/// The registry record (<c>registry.json</c>, docs/registry-format.md section 2): it marks a store as a registry and
/// names the family's base version. Created once by <c>Init</c>, never changed.
/// </summary>
internal sealed record RootRecord(string Base, DateTimeOffset Created)
{
    public const string Type = "z4aiRegistry";

    public const int Version = 1;

    public const int MaxLength = 1 << 20;

    public byte[] Write() => JsonEnvelope.Write(Type, Version, w =>
    {
        w.WriteStartObject();
        w.WriteString("base", Base);
        w.WriteString("created", ManifestJson.FormatTime(Created));
        w.WriteEndObject();
    });

    public static RootRecord Parse(ReadOnlyMemory<byte> data, string displayName)
    {
        ReadOnlyMemory<byte> body = JsonEnvelope.Open(data, Type, Version, displayName);
        try
        {
            var r = new Utf8JsonReader(body.Span, JsonEnvelope.ReaderOptions);
            JsonRead.Next(ref r, displayName);
            JsonRead.Expect(ref r, JsonTokenType.StartObject, "body", displayName);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? baseName = null;
            DateTimeOffset? created = null;
            while (true)
            {
                JsonRead.Next(ref r, displayName);
                if (r.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                string property = JsonRead.PropertyName(ref r, seen, displayName);
                JsonRead.Next(ref r, displayName);
                switch (property)
                {
                    case "base":
                        baseName = JsonRead.String(ref r, "base", displayName);
                        if (!RegistryLayout.IsValidVersionName(baseName))
                        {
                            throw JsonRead.Error($"base '{baseName}' is not a valid version name", displayName, r.TokenStartIndex);
                        }

                        break;
                    case "created":
                        string text = JsonRead.String(ref r, "created", displayName);
                        created = ManifestJson.TryParseTime(text, out DateTimeOffset time)
                            ? time
                            : throw JsonRead.Error($"created must be a UTC time, found '{text}'", displayName, r.TokenStartIndex);
                        break;
                    default:
                        r.Skip();
                        break;
                }
            }

            if (baseName is null || created is null)
            {
                throw JsonRead.Error("the registry record needs \"base\" and \"created\"", displayName, 0);
            }

            return new RootRecord(baseName, created.Value);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"not valid JSON: {ex.Message}", displayName, innerException: ex);
        }
    }
}
