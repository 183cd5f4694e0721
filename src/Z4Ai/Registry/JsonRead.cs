using System.Text.Json;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>Strict, typed reads from a <see cref="Utf8JsonReader"/>, failing with a precise <see cref="Z4AiFormatException"/>.</summary>
internal static class JsonRead
{
    public static void Next(ref Utf8JsonReader reader, string displayName)
    {
        if (!reader.Read())
        {
            throw Error("the JSON ends early", displayName, reader.BytesConsumed);
        }
    }

    public static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what, string displayName)
    {
        if (reader.TokenType != type)
        {
            throw Error($"{what} must be {Name(type)}, found {Name(reader.TokenType)}", displayName, reader.TokenStartIndex);
        }
    }

    /// <summary>Reads a property name and rejects a repeated one.</summary>
    public static string PropertyName(ref Utf8JsonReader reader, HashSet<string> seen, string displayName)
    {
        Expect(ref reader, JsonTokenType.PropertyName, "a member", displayName);
        string name = reader.GetString()!;
        if (!seen.Add(name))
        {
            throw Error($"the property \"{name}\" appears twice", displayName, reader.TokenStartIndex);
        }

        return name;
    }

    public static string String(ref Utf8JsonReader reader, string what, string displayName)
    {
        Expect(ref reader, JsonTokenType.String, what, displayName);
        return reader.GetString()!;
    }

    public static string? StringOrNull(ref Utf8JsonReader reader, string what, string displayName) =>
        reader.TokenType == JsonTokenType.Null ? null : String(ref reader, what, displayName);

    public static long Int64(ref Utf8JsonReader reader, string what, string displayName, long min = 0, long max = long.MaxValue)
    {
        Expect(ref reader, JsonTokenType.Number, what, displayName);
        if (!reader.TryGetInt64(out long value) || value < min || value > max)
        {
            throw Error($"{what} must be an integer from {min} to {max}", displayName, reader.TokenStartIndex);
        }

        return value;
    }

    public static bool Boolean(ref Utf8JsonReader reader, string what, string displayName)
    {
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            throw Error($"{what} must be true or false, found {Name(reader.TokenType)}", displayName, reader.TokenStartIndex);
        }

        return reader.GetBoolean();
    }

    public static Sha256Digest Digest(ref Utf8JsonReader reader, string what, string displayName)
    {
        long at = reader.TokenStartIndex;
        string hex = String(ref reader, what, displayName);
        if (hex.Length != Sha256Digest.Size * 2 || !IsLowerHex(hex) || !Sha256Digest.TryParse(hex, out Sha256Digest digest))
        {
            throw Error($"{what} must be 64 lowercase hex digits", displayName, at);
        }

        return digest;
    }

    /// <summary>Decodes a base64 string of at most <paramref name="maxBytes"/> bytes, checking the size first.</summary>
    public static byte[] Base64(ref Utf8JsonReader reader, string what, string displayName, long maxBytes)
    {
        Expect(ref reader, JsonTokenType.String, what, displayName);
        long encoded = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (encoded / 4 * 3 > maxBytes + 3)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"{what} holds more than the {maxBytes} bytes allowed", displayName, offset: reader.TokenStartIndex);
        }

        if (!reader.TryGetBytesFromBase64(out byte[]? bytes) || bytes.Length > maxBytes)
        {
            throw Error($"{what} is not valid base64 of at most {maxBytes} bytes", displayName, reader.TokenStartIndex);
        }

        return bytes;
    }

    public static Z4AiFormatException Error(string message, string displayName, long offset) =>
        new(Z4AiErrorKind.InvalidContainer, message, displayName, offset: offset);

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

    private static string Name(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.EndObject => "the end of an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.EndArray => "the end of an array",
        JsonTokenType.PropertyName => "a property name",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => "nothing",
    };
}
