using System.Text.Json;

namespace Z4Ai.Registry;

/// <summary>
/// A Hugging Face sharding index (<c>model.safetensors.index.json</c>): <c>{"metadata": {...}, "weight_map":
/// {"tensor": "model-00001-of-00002.safetensors", ...}}</c>. The shard names come from the file, so each must be a
/// plain file name in the index's directory; the map is an allow-list (a tensor a shard holds but the map does not
/// assign to it is kept for byte-exact export, but not exposed by name).
/// </summary>
internal sealed class ShardIndex
{
    private ShardIndex(Dictionary<string, string> weightMap)
    {
        WeightMap = weightMap;
        Shards = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Tensor name to shard file name.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The shard files, sorted ordinally.</summary>
    public IReadOnlyList<string> Shards { get; }

    public HashSet<string> TensorsOf(string shard) =>
        WeightMap.Where(p => p.Value == shard).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);

    /// <exception cref="Z4AiFormatException">The index is malformed or names a shard that is not a plain file name.</exception>
    public static ShardIndex Parse(ReadOnlySpan<byte> json, string displayName)
    {
        try
        {
            var r = new Utf8JsonReader(json, JsonEnvelope.ReaderOptions);
            JsonRead.Next(ref r, displayName);
            JsonRead.Expect(ref r, JsonTokenType.StartObject, "the index", displayName);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            Dictionary<string, string>? map = null;
            while (true)
            {
                JsonRead.Next(ref r, displayName);
                if (r.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                string property = JsonRead.PropertyName(ref r, seen, displayName);
                JsonRead.Next(ref r, displayName);
                if (property != "weight_map")
                {
                    r.Skip();
                    continue;
                }

                JsonRead.Expect(ref r, JsonTokenType.StartObject, "weight_map", displayName);
                map = new Dictionary<string, string>(StringComparer.Ordinal);
                while (true)
                {
                    JsonRead.Next(ref r, displayName);
                    if (r.TokenType == JsonTokenType.EndObject)
                    {
                        break;
                    }

                    JsonRead.Expect(ref r, JsonTokenType.PropertyName, "a tensor name", displayName);
                    string tensor = r.GetString()!;
                    long at = r.TokenStartIndex;
                    JsonRead.Next(ref r, displayName);
                    string shard = JsonRead.String(ref r, $"the shard of '{tensor}'", displayName);
                    if (!SafeFileName.IsValid(shard))
                    {
                        throw new Z4AiFormatException(
                            Z4AiErrorKind.InvalidContainer,
                            $"weight_map assigns it to '{shard}', which is not a plain file name next to the index (no '..', directories or rooted paths)",
                            displayName,
                            tensor,
                            at);
                    }

                    if (!map.TryAdd(tensor, shard))
                    {
                        throw new Z4AiFormatException(Z4AiErrorKind.DuplicateKey, "weight_map lists this tensor twice", displayName, tensor, at);
                    }
                }
            }

            if (r.Read())
            {
                throw JsonRead.Error("unexpected data after the index", displayName, r.TokenStartIndex);
            }

            if (map is null || map.Count == 0)
            {
                throw JsonRead.Error("the index has no \"weight_map\" (or an empty one)", displayName, 0);
            }

            return new ShardIndex(map);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"not valid JSON: {ex.Message}", displayName, innerException: ex);
        }
    }
}
