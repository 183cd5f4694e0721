using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Z4Ai.Registry;

/// <summary>
/// The checksummed JSON envelope of registry records: <c>{"&lt;type&gt;": version, "sha256": "…", "body": {…}}</c>,
/// where the SHA-256 covers the exact bytes of the body value. A torn, truncated or edited record fails the check
/// before any field of it is trusted.
/// </summary>
internal static class JsonEnvelope
{
    public static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 32,
    };

    private static readonly JsonWriterOptions BodyWriterOptions = new() { Indented = true, SkipValidation = false };

    /// <summary>Writes a body with <paramref name="writeBody"/>, then wraps it in the envelope.</summary>
    public static byte[] Write(string type, int version, Action<Utf8JsonWriter> writeBody)
    {
        var body = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(body, BodyWriterOptions))
        {
            writeBody(writer);
        }

        var output = new ArrayBufferWriter<byte>(body.WrittenCount + 256);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteNumber(type, version);
            writer.WriteString("sha256", Convert.ToHexStringLower(SHA256.HashData(body.WrittenSpan)));
            writer.WritePropertyName("body");
            writer.WriteRawValue(body.WrittenSpan, skipInputValidation: true);
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Checks the envelope and returns the byte range of its body, which the caller parses.
    /// </summary>
    /// <exception cref="Z4AiFormatException">Not an envelope of this type, an unknown version, or a checksum mismatch.</exception>
    public static ReadOnlyMemory<byte> Open(ReadOnlyMemory<byte> data, string type, int version, string displayName)
    {
        try
        {
            return OpenCore(data, type, version, displayName);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, $"not valid JSON: {ex.Message}", displayName, offset: (ex as JsonException)?.BytePositionInLine, innerException: ex);
        }
    }

    private static ReadOnlyMemory<byte> OpenCore(ReadOnlyMemory<byte> data, string type, int version, string displayName)
    {
        var reader = new Utf8JsonReader(data.Span, ReaderOptions);
        JsonRead.Next(ref reader, displayName);
        JsonRead.Expect(ref reader, JsonTokenType.StartObject, "the record", displayName);
        int? foundVersion = null;
        string? sha = null;
        long bodyStart = -1;
        long bodyEnd = -1;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            JsonRead.Next(ref reader, displayName);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            string property = JsonRead.PropertyName(ref reader, seen, displayName);
            JsonRead.Next(ref reader, displayName);
            if (property == type)
            {
                foundVersion = (int)JsonRead.Int64(ref reader, property, displayName, 0, int.MaxValue);
            }
            else if (property == "sha256")
            {
                sha = JsonRead.String(ref reader, property, displayName);
            }
            else if (property == "body")
            {
                JsonRead.Expect(ref reader, JsonTokenType.StartObject, "body", displayName);
                bodyStart = reader.TokenStartIndex;
                reader.Skip();
                bodyEnd = reader.BytesConsumed;
            }
            else
            {
                reader.Skip();
            }
        }

        if (reader.Read())
        {
            throw JsonRead.Error("unexpected data after the record", displayName, reader.TokenStartIndex);
        }

        if (foundVersion is null)
        {
            throw JsonRead.Error($"this is not a {Describe(type)} (no \"{type}\" field)", displayName, 0);
        }

        if (foundVersion != version)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"{Describe(type)} version {foundVersion}; this reader knows version {version}", displayName);
        }

        if (sha is null || bodyStart < 0)
        {
            throw JsonRead.Error($"the record lacks its {(sha is null ? "\"sha256\"" : "\"body\"")} field", displayName, 0);
        }

        ReadOnlyMemory<byte> body = data[(int)bodyStart..(int)bodyEnd];
        string actual = Convert.ToHexStringLower(SHA256.HashData(body.Span));
        if (!string.Equals(actual, sha, StringComparison.Ordinal))
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the body fails its checksum (recorded SHA-256 {sha}, actual {actual}): the record is damaged",
                displayName,
                offset: bodyStart);
        }

        return body;
    }

    private static string Describe(string type) => type == ManifestJson.Type ? "Z4Ai version manifest" : "Z4Ai registry record";
}
