using System.Globalization;
using System.Text.Json;
using Z4Ai.Format;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>
/// Writes and reads version manifests (docs/registry-format.md, section 3) with <see cref="Utf8JsonWriter"/> and
/// <see cref="Utf8JsonReader"/> only, so the library stays AOT-compatible. Reading validates everything before a
/// manifest is used: the envelope checksum, every field's type and range, and that the recorded safetensors header
/// describes exactly the recorded tensors, so a restore from a manifest that parses is byte-exact.
/// </summary>
internal static class ManifestJson
{
    public const string Type = "z4aiManifest";

    public const int Version = 1;

    /// <summary>The largest manifest a reader loads: a maximal safetensors header in base64 plus its tensors.</summary>
    public const long MaxManifestLength = 512L << 20;

    /// <summary>The largest sharding index kept with a version.</summary>
    public const int MaxIndexLength = 64 << 20;

    public const int MaxFiles = 100_000;

    private static readonly string[] RequiredMembers = ["name", "parent", "base", "created", "tier", "files"];

    public static byte[] Write(Manifest manifest) => JsonEnvelope.Write(Type, Version, w =>
    {
        w.WriteStartObject();
        w.WriteString("name", manifest.Name);
        if (manifest.Parent is null)
        {
            w.WriteNull("parent");
        }
        else
        {
            w.WriteString("parent", manifest.Parent);
        }

        w.WriteString("base", manifest.Base);
        w.WriteString("created", FormatTime(manifest.Created));
        w.WriteString("tier", manifest.Tier);

        // Lossy versions record their certificate and settings here (ManifestLossy.cs); lossless ones write null.
        ManifestLossyJson.WriteCertificate(w, manifest.Certificate);
        ManifestLossyJson.WriteLossy(w, manifest.Lossy);
        if (manifest.Index is null)
        {
            w.WriteNull("index");
        }
        else
        {
            w.WriteStartObject("index");
            w.WriteString("path", manifest.Index.Path);
            w.WriteBase64String("bytes", manifest.Index.Bytes);
            w.WriteEndObject();
        }

        RegistryTextFiles.Write(w, manifest.Texts);
        w.WriteStartArray("files");
        foreach (ManifestFile file in manifest.Files)
        {
            w.WriteStartObject();
            w.WriteString("path", file.Path);
            w.WriteString("sha256", file.Sha256.ToString());
            w.WriteBase64String("header", file.Header);

            // The header holds the metadata too; it is repeated here for people and tools reading the manifest.
            if (file.Metadata is null)
            {
                w.WriteNull("metadata");
            }
            else
            {
                w.WriteStartObject("metadata");
                foreach (KeyValuePair<string, string> pair in file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WriteString(pair.Key, pair.Value);
                }

                w.WriteEndObject();
            }

            w.WriteStartArray("tensors");
            foreach (ManifestTensor t in file.Tensors)
            {
                WriteTensor(w, t);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Parses and validates a manifest read from <paramref name="displayName"/>.</summary>
    /// <param name="data">The blob.</param>
    /// <param name="expectedName">The version name its key says, or null to accept any valid name.</param>
    /// <param name="displayName">The blob's location, for messages.</param>
    /// <exception cref="Z4AiFormatException">The manifest is damaged or invalid; the message says where and why.</exception>
    public static Manifest Parse(ReadOnlyMemory<byte> data, string? expectedName, string displayName)
    {
        ReadOnlyMemory<byte> body = JsonEnvelope.Open(data, Type, Version, displayName);
        long bodyOffset = 0;
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(body, out ArraySegment<byte> segment)
            && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> whole))
        {
            bodyOffset = segment.Offset - whole.Offset;
        }

        Manifest manifest;
        try
        {
            var reader = new Utf8JsonReader(body.Span, JsonEnvelope.ReaderOptions);
            manifest = ParseBody(ref reader, displayName, bodyOffset);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"not valid JSON: {ex.Message}", displayName, innerException: ex);
        }

        if (expectedName is not null && !string.Equals(manifest.Name, expectedName, StringComparison.Ordinal))
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, $"the manifest is stored as version '{expectedName}' but names itself '{manifest.Name}'", displayName);
        }

        return new Manifest(manifest.Name, manifest.Parent, manifest.Base, manifest.Created, manifest.Tier, manifest.Index, manifest.Files)
        {
            ManifestBytes = data.Length,
            Lossy = manifest.Lossy,
            Certificate = manifest.Certificate,
            Texts = manifest.Texts,
        };
    }

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    public static bool TryParseTime(string text, out DateTimeOffset time)
    {
        bool ok = DateTimeOffset.TryParseExact(
            text, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
        return ok;
    }

    public static string StorageName(TensorStorage storage) => storage switch
    {
        TensorStorage.Copy => "copy",
        TensorStorage.Scratch => "scratch",
        TensorStorage.DeltaFromParent => "delta-parent",
        TensorStorage.DeltaFromBase => "delta-base",
        _ => throw new ArgumentOutOfRangeException(nameof(storage)),
    };

    private static void WriteTensor(Utf8JsonWriter w, ManifestTensor t)
    {
        w.WriteStartObject();
        w.WriteString("name", t.Name);
        w.WriteString("dtype", t.DType.GetName());
        w.WriteStartArray("shape");
        foreach (long d in t.Shape)
        {
            w.WriteNumberValue(d);
        }

        w.WriteEndArray();
        w.WriteNumber("length", t.Length);
        w.WriteString("sha256", t.Sha256.ToString());
        w.WriteString("object", t.Object.ToString());
        w.WriteString("storage", StorageName(t.Storage));
        if (t.Reference is Sha256Digest reference)
        {
            w.WriteString("reference", reference.ToString());
        }

        w.WriteNumber("depth", t.Depth);
        w.WriteNumber("storedBytes", t.StoredBytes);
        if (t.Hidden)
        {
            w.WriteBoolean("hidden", true);
        }

        ManifestLossyJson.WriteTensor(w, t.Lossy);
        w.WriteEndObject();
    }

    private static Manifest ParseBody(ref Utf8JsonReader r, string file, long bodyOffset)
    {
        JsonRead.Next(ref r, file);
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "body", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? name = null;
        string? parent = null;
        string? baseName = null;
        string? tier = null;
        DateTimeOffset? created = null;
        ManifestIndex? index = null;
        List<ManifestFile>? files = null;
        ManifestCertificate? certificate = null;
        ManifestLossy? lossy = null;
        ManifestText[] texts = [];
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            string property = JsonRead.PropertyName(ref r, seen, file);
            JsonRead.Next(ref r, file);
            long at = bodyOffset + r.TokenStartIndex;
            switch (property)
            {
                case "name":
                    name = VersionName(JsonRead.String(ref r, "name", file), "name", file, at);
                    break;
                case "parent":
                    string? p = JsonRead.StringOrNull(ref r, "parent", file);
                    parent = p is null ? null : VersionName(p, "parent", file, at);
                    break;
                case "base":
                    baseName = VersionName(JsonRead.String(ref r, "base", file), "base", file, at);
                    break;
                case "created":
                    string text = JsonRead.String(ref r, "created", file);
                    if (!TryParseTime(text, out DateTimeOffset time))
                    {
                        throw JsonRead.Error($"created must be a UTC time like 2026-01-31T12:00:00.0000000Z, found '{text}'", file, at);
                    }

                    created = time;
                    break;
                case "tier":
                    tier = JsonRead.String(ref r, "tier", file);
                    break;
                case "certificate":
                    certificate = ManifestLossyJson.ParseCertificate(ref r, file);
                    break;
                case "lossy":
                    lossy = ManifestLossyJson.ParseLossy(ref r, file);
                    break;
                case "index":
                    index = r.TokenType == JsonTokenType.Null ? null : ParseIndex(ref r, file);
                    break;
                case "files":
                    files = ParseFiles(ref r, file, bodyOffset);
                    break;
                case "texts":
                    texts = RegistryTextFiles.Parse(ref r, file);
                    break;
                default:
                    // Unknown members are ignored: a change that old readers must not ignore bumps the version.
                    r.Skip();
                    break;
            }
        }

        if (name is null || baseName is null || tier is null || created is null || files is null || !seen.Contains("parent"))
        {
            string missing = string.Join(", ", RequiredMembers.Where(k => !seen.Contains(k)));
            throw JsonRead.Error($"the manifest lacks {missing}", file, bodyOffset);
        }

        CheckTier(name, tier, lossy, certificate, files, file, bodyOffset);

        if ((parent is null) != (name == baseName))
        {
            throw JsonRead.Error(
                parent is null ? $"version '{name}' has no parent but is not the base '{baseName}'" : $"the base '{name}' cannot have a parent", file, bodyOffset);
        }

        if (parent == name)
        {
            throw JsonRead.Error($"version '{name}' names itself as its parent", file, bodyOffset);
        }

        if (files.Count > 1 && index is null)
        {
            throw JsonRead.Error($"a version of {files.Count} files must keep the sharding index they came with", file, bodyOffset);
        }

        var exposed = new HashSet<string>(StringComparer.Ordinal);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (ManifestFile f in files)
        {
            if (!paths.Add(f.Path) || (index is not null && f.Path == index.Path))
            {
                throw JsonRead.Error($"the file name '{f.Path}' appears twice", file, bodyOffset);
            }

            foreach (ManifestTensor t in f.Tensors)
            {
                if (!t.Hidden && !exposed.Add(t.Name))
                {
                    throw new Z4AiFormatException(Z4AiErrorKind.DuplicateKey, "two files of the version expose a tensor of this name", file, t.Name);
                }
            }
        }

        return new Manifest(name, parent, baseName, created.Value, tier, index, [.. files]) { Lossy = lossy, Certificate = certificate, Texts = texts };
    }

    /// <summary>A lossless version has no lossy members; a lossy one has all of them, consistent with its tensors.</summary>
    private static void CheckTier(string name, string tier, ManifestLossy? lossy, ManifestCertificate? certificate, List<ManifestFile> files, string file, long bodyOffset)
    {
        if (tier == Manifest.LosslessTier)
        {
            if (certificate is not null || lossy is not null)
            {
                throw JsonRead.Error("a lossless version carries no certificate or lossy settings, but this manifest has them", file, bodyOffset);
            }

            if (files.SelectMany(f => f.Tensors).FirstOrDefault(t => t.Lossy is not null) is { } odd)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "a tensor of a lossless version has a lossy record", file, odd.Name);
            }

            return;
        }

        if (!LossyTiers.TryParse(tier, out LossyTier? parsed) || parsed.Value == LossyTier.Lossless || parsed.Value.GetName() != tier)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.UnsupportedVersion, $"version '{name}' has tier '{tier}', which this reader does not know (lossless, int8, int4, sparse or 1bit)", file);
        }

        if (lossy is null || lossy.Settings.Tier != parsed.Value)
        {
            throw JsonRead.Error($"a version of tier '{tier}' records its lossy settings (with that tier)", file, bodyOffset);
        }

        if (certificate is null && !lossy.Forced)
        {
            throw JsonRead.Error($"lossy version '{name}' has no certificate and was not forced", file, bodyOffset);
        }

        if (files.Count != 1)
        {
            throw JsonRead.Error("a lossy version holds exactly one file", file, bodyOffset);
        }

        foreach (ManifestTensor t in files[0].Tensors)
        {
            string? problem = t.Lossy switch
            {
                null => "it has no lossy record",
                { Mode: not LossyTier.Lossless } when t.Storage == TensorStorage.Scratch => "a lossy tensor is a copy or is stored against a reference",
                { Mode: LossyTier.Lossless } when t.Lossy.Target != t.Sha256 => "an exact tensor's target is its own SHA-256",
                { Mode: not LossyTier.Lossless } when t.Storage != TensorStorage.Copy && t.Reference != t.Lossy.Base =>
                    "a lossy tensor's reference object is the base tensor it was coded against",
                _ => null,
            };
            if (problem is not null)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"tensor of lossy version '{name}': {problem}", file, t.Name);
            }
        }
    }

    private static string VersionName(string value, string what, string file, long at) =>
        RegistryLayout.IsValidVersionName(value) ? value : throw JsonRead.Error($"{what} '{value}' is not a valid version name", file, at);

    private static ManifestIndex ParseIndex(ref Utf8JsonReader r, string file)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "index", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? path = null;
        byte[]? bytes = null;
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            string property = JsonRead.PropertyName(ref r, seen, file);
            JsonRead.Next(ref r, file);
            switch (property)
            {
                case "path":
                    path = JsonRead.String(ref r, "index.path", file);
                    if (!SafeFileName.IsValid(path))
                    {
                        throw JsonRead.Error($"index.path '{path}' is not a plain file name", file, r.TokenStartIndex);
                    }

                    break;
                case "bytes":
                    bytes = JsonRead.Base64(ref r, "index.bytes", file, MaxIndexLength);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (path is null || bytes is null)
        {
            throw JsonRead.Error("index needs \"path\" and \"bytes\"", file, r.TokenStartIndex);
        }

        return new ManifestIndex(path, bytes);
    }

    private static List<ManifestFile> ParseFiles(ref Utf8JsonReader r, string file, long bodyOffset)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartArray, "files", file);
        var files = new List<ManifestFile>();
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                break;
            }

            if (files.Count >= MaxFiles)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"more than {MaxFiles} files", file);
            }

            files.Add(ParseFile(ref r, file, bodyOffset));
        }

        if (files.Count == 0)
        {
            throw JsonRead.Error("a version holds at least one file", file, bodyOffset);
        }

        return files;
    }

    private static ManifestFile ParseFile(ref Utf8JsonReader r, string file, long bodyOffset)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "a file", file);
        long start = bodyOffset + r.TokenStartIndex;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? path = null;
        byte[]? header = null;
        Sha256Digest? sha = null;
        List<ManifestTensor>? tensors = null;
        Dictionary<string, string>? metadata = null;
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            string property = JsonRead.PropertyName(ref r, seen, file);
            JsonRead.Next(ref r, file);
            switch (property)
            {
                case "path":
                    path = JsonRead.String(ref r, "path", file);
                    if (!SafeFileName.IsValid(path))
                    {
                        throw JsonRead.Error($"file path '{path}' is not a plain file name", file, bodyOffset + r.TokenStartIndex);
                    }

                    break;
                case "sha256":
                    sha = JsonRead.Digest(ref r, "file sha256", file);
                    break;
                case "header":
                    header = JsonRead.Base64(ref r, "header", file, ContainerFormat.MaxOriginalHeaderLength);
                    break;
                case "tensors":
                    tensors = ParseTensors(ref r, file, bodyOffset);
                    break;
                case "metadata":
                    metadata = r.TokenType == JsonTokenType.Null ? null : ParseMetadata(ref r, file);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (path is null || header is null || sha is null || tensors is null || !seen.Contains("metadata"))
        {
            throw JsonRead.Error("a file needs \"path\", \"sha256\", \"header\", \"metadata\" and \"tensors\"", file, start);
        }

        IReadOnlyDictionary<string, string>? recorded = CheckHeader(path, header, tensors, file);
        bool same = recorded is null
            ? metadata is null
            : metadata is not null && metadata.Count == recorded.Count && recorded.All(p => metadata.TryGetValue(p.Key, out string? v) && v == p.Value);
        if (!same)
        {
            throw JsonRead.Error($"the metadata of '{path}' differs from the __metadata__ of its header", file, start);
        }

        return new ManifestFile(path, header, sha.Value, [.. tensors], recorded);
    }

    /// <summary>
    /// Parses the recorded safetensors header against the recorded tensors: it must be valid, and list exactly these
    /// tensors, in this order, with these dtypes, shapes and lengths.
    /// </summary>
    private static IReadOnlyDictionary<string, string>? CheckHeader(string path, byte[] header, List<ManifestTensor> tensors, string file)
    {
        long total = header.Length;
        foreach (ManifestTensor t in tensors)
        {
            if (t.Length > long.MaxValue - total)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.ValidationOverflow, $"the tensors of '{path}' add up to more bytes than a file can hold", file);
            }

            total += t.Length;
        }

        SafeTensorsHeader parsed;
        try
        {
            long n = SafeTensorsFormat.ReadHeaderLength(header.AsSpan(0, Math.Min(8, header.Length)), total);
            if (8 + n != header.Length)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.InvalidHeaderLength, $"the length prefix says {n} header bytes, but {header.Length - 8} are kept");
            }

            parsed = SafeTensorsFormat.ParseHeader(header.AsSpan(8), total);
        }
        catch (Z4AiFormatException ex)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"the safetensors header kept for '{path}' is invalid: {ex.Detail}", file, ex.TensorName, innerException: ex);
        }

        if (parsed.Tensors.Count != tensors.Count)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, $"the header of '{path}' lists {parsed.Tensors.Count} tensors, the manifest {tensors.Count}", file);
        }

        for (int i = 0; i < tensors.Count; i++)
        {
            SafeTensorsEntry e = parsed.Tensors[i];
            ManifestTensor t = tensors[i];
            if (e.Name != t.Name || e.DType != t.DType || e.Length != t.Length || !e.Shape.AsSpan().SequenceEqual(t.Shape))
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.InvalidContainer,
                    $"tensor {i} of '{path}' is {t.DType.GetName()}[{string.Join(",", t.Shape)}] in the manifest but {e} in its header",
                    file,
                    t.Name);
            }
        }

        return parsed.Metadata;
    }

    private static Dictionary<string, string> ParseMetadata(ref Utf8JsonReader r, string file)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "metadata", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                return metadata;
            }

            string key = JsonRead.PropertyName(ref r, seen, file);
            JsonRead.Next(ref r, file);
            metadata[key] = JsonRead.String(ref r, $"metadata '{key}'", file);
        }
    }

    private static List<ManifestTensor> ParseTensors(ref Utf8JsonReader r, string file, long bodyOffset)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartArray, "tensors", file);
        var tensors = new List<ManifestTensor>();
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                return tensors;
            }

            tensors.Add(ParseTensor(ref r, file, bodyOffset));
        }
    }

    private static ManifestTensor ParseTensor(ref Utf8JsonReader r, string file, long bodyOffset)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "a tensor", file);
        long start = bodyOffset + r.TokenStartIndex;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? name = null;
        DType? dtype = null;
        List<long>? shape = null;
        long length = -1;
        Sha256Digest? sha = null;
        Sha256Digest? obj = null;
        TensorStorage? storage = null;
        Sha256Digest? reference = null;
        long depth = -1;
        long stored = -1;
        bool hidden = false;
        ManifestLossyTensor? lossyTensor = null;
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            string property = JsonRead.PropertyName(ref r, seen, file);
            JsonRead.Next(ref r, file);
            long at = bodyOffset + r.TokenStartIndex;
            switch (property)
            {
                case "name":
                    name = JsonRead.String(ref r, "tensor name", file);
                    break;
                case "dtype":
                    string d = JsonRead.String(ref r, "dtype", file);
                    dtype = DTypeInfo.TryParse(d, out DType parsed) ? parsed : throw JsonRead.Error($"unknown dtype '{d}'", file, at);
                    break;
                case "shape":
                    JsonRead.Expect(ref r, JsonTokenType.StartArray, "shape", file);
                    shape = [];
                    while (true)
                    {
                        JsonRead.Next(ref r, file);
                        if (r.TokenType == JsonTokenType.EndArray)
                        {
                            break;
                        }

                        if (shape.Count >= 64)
                        {
                            throw JsonRead.Error("a shape has at most 64 dimensions", file, at);
                        }

                        shape.Add(JsonRead.Int64(ref r, "a dimension", file));
                    }

                    break;
                case "length":
                    length = JsonRead.Int64(ref r, "length", file);
                    break;
                case "sha256":
                    sha = JsonRead.Digest(ref r, "sha256", file);
                    break;
                case "object":
                    obj = JsonRead.Digest(ref r, "object", file);
                    break;
                case "storage":
                    string s = JsonRead.String(ref r, "storage", file);
                    storage = s switch
                    {
                        "copy" => TensorStorage.Copy,
                        "scratch" => TensorStorage.Scratch,
                        "delta-parent" => TensorStorage.DeltaFromParent,
                        "delta-base" => TensorStorage.DeltaFromBase,
                        _ => throw JsonRead.Error($"unknown storage '{s}' (copy, scratch, delta-parent or delta-base)", file, at),
                    };
                    break;
                case "reference":
                    reference = JsonRead.Digest(ref r, "reference", file);
                    break;
                case "depth":
                    depth = JsonRead.Int64(ref r, "depth", file, 0, ObjectFormat.MaxDepth);
                    break;
                case "storedBytes":
                    stored = JsonRead.Int64(ref r, "storedBytes", file);
                    break;
                case "hidden":
                    hidden = JsonRead.Boolean(ref r, "hidden", file);
                    break;
                case "lossy":
                    lossyTensor = ManifestLossyJson.ParseTensor(ref r, file, name ?? "(unnamed)");
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (name is null || dtype is null || shape is null || length < 0 || sha is null || obj is null || storage is null || depth < 0 || stored < 0)
        {
            throw JsonRead.Error(
                "a tensor needs name, dtype, shape, length, sha256, object, storage, depth and storedBytes", file, start);
        }

        long expected = SafeTensorsFormat.GetByteLength(dtype.Value, shape.ToArray(), name);
        if (expected != length)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.TensorInvalidInfo, $"{dtype.Value.GetName()}[{string.Join(",", shape)}] is {expected} bytes, the manifest says {length}", file, name);
        }

        if (obj != sha)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"a lossless tensor's object must be its SHA-256 {sha}, found {obj}", file, name);
        }

        bool delta = storage is TensorStorage.DeltaFromParent or TensorStorage.DeltaFromBase;
        string? problem = storage switch
        {
            TensorStorage.Copy when stored != 0 => "a copy stores no bytes",
            TensorStorage.Scratch when depth != 0 => "a scratch object has depth 0",
            _ when delta && depth < 1 => "a delta object has depth 1 or more",
            _ when delta != (reference is not null) => delta ? "a delta names its reference" : "only a delta names a reference",
            _ when reference == sha => "a delta cannot reference itself",
            _ => null,
        };
        if (problem is not null)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"inconsistent storage '{StorageName(storage.Value)}': {problem}", file, name);
        }

        return new ManifestTensor(name, dtype.Value, [.. shape], length, sha.Value, obj.Value, storage.Value, reference, (int)depth, stored, hidden)
        {
            Lossy = lossyTensor,
        };
    }
}
