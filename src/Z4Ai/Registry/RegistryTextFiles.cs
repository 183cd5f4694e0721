using System.Text.Json;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Archival;
using Z4Ai.Format;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>
/// One text file kept with a version (config, tokenizer, model card): its plain file name, length and SHA-256,
/// and its bytes as an archival-tier archive (docs/archive-format.md), itself verified on decode.
/// </summary>
internal sealed record ManifestText(string Path, long Length, Sha256Digest Sha256, byte[] Archive);

/// <summary>
/// The text files a model travels with, kept archive-coded in the version's manifest (member <c>texts</c>,
/// docs/registry-format.md) and written back next to the model by <c>get</c> and <c>export</c>.
/// </summary>
/// <remarks>
/// Taken from the model's folder (the folder given, or the folder of the file or index given): <c>config.json</c>,
/// <c>generation_config.json</c>, <c>special_tokens_map.json</c>, <c>tokenizer*.json</c>, <c>README*</c>, <c>*.md</c>
/// and <c>*.txt</c>, plus any file named explicitly. Each file is archived on its own (the context model, zstd or
/// stored per block, smallest wins); readers that predate the member ignore it, and restore only the weights.
/// </remarks>
internal static class RegistryTextFiles
{
    /// <summary>The largest text file kept (raw bytes); a larger one is refused with a precise error.</summary>
    public const int MaxFileLength = 64 << 20;

    /// <summary>The most text files one version keeps.</summary>
    public const int MaxFiles = 256;

    // The largest archive of a MaxFileLength file in default-size blocks: the raw bytes plus the frame's overhead.
    private const long MaxArchiveLength = MaxFileLength + ArchiveConstants.MaxFixedOverhead + (((MaxFileLength / ArchiveConstants.DefaultBlockSize) + 1) * ArchiveBlocks.MaxHeaderLength);

    private static readonly string[] ExactNames = ["config.json", "generation_config.json", "special_tokens_map.json"];

    /// <summary>
    /// Finds the text files next to <paramref name="modelPath"/> (a file, an index or a folder), adds
    /// <paramref name="extra"/> and archive-codes them, sorted by name.
    /// </summary>
    /// <exception cref="Z4AiFormatException">A file is larger than <see cref="MaxFileLength"/>, there are more than
    /// <see cref="MaxFiles"/>, or two files share a name.</exception>
    public static ManifestText[] Collect(string modelPath, IReadOnlyList<string>? extra, CancellationToken ct)
    {
        string? folder = Directory.Exists(modelPath) ? modelPath : Path.GetDirectoryName(Path.GetFullPath(modelPath));
        var paths = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (folder is not null && Directory.Exists(folder))
        {
            foreach (string path in Directory.EnumerateFiles(folder))
            {
                string name = Path.GetFileName(path);
                if (IsModelText(name))
                {
                    paths[name] = path;
                }
            }
        }

        foreach (string path in extra ?? [])
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file", path);
            }

            string name = Path.GetFileName(path);
            if (!SafeFileName.IsValid(name) || IsModelFile(name))
            {
                throw new ArgumentException($"{path} cannot be kept as a text file of the version (its name is not a plain file name, or it is model data)", nameof(extra));
            }

            if (paths.TryGetValue(name, out string? other) && Path.GetFullPath(other) != Path.GetFullPath(path))
            {
                throw new Z4AiFormatException(Z4AiErrorKind.DuplicateKey, $"two text files are named '{name}' ({other} and {path})", path);
            }

            paths[name] = path;
        }

        if (paths.Count > MaxFiles)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"{paths.Count} text files, more than the {MaxFiles} a version keeps", folder);
        }

        var texts = new List<ManifestText>(paths.Count);
        foreach ((string name, string path) in paths)
        {
            ct.ThrowIfCancellationRequested();
            long length = new FileInfo(path).Length;
            if (length > MaxFileLength)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"the text file is {length} bytes, more than the {MaxFileLength} a version keeps", path);
            }

            byte[] data = File.ReadAllBytes(path);
            using var archive = new ArrayPoolBufferWriter<byte>(Math.Max(256, (data.Length / 3) + 128));
            ArchiveWriter.Encode(data, ArchiveOptions.Default, archive);
            texts.Add(new ManifestText(name, data.Length, Sha256Digest.Compute(data), archive.WrittenSpan.ToArray()));
        }

        return [.. texts];
    }

    /// <summary>Writes each text file of <paramref name="manifest"/> into <paramref name="directory"/>, verified first.</summary>
    /// <returns>The paths written.</returns>
    /// <exception cref="Z4AiIntegrityException">A file does not decode to its recorded SHA-256.</exception>
    public static List<string> Restore(Manifest manifest, string directory, string manifestDisplayName)
    {
        var written = new List<string>(manifest.Texts.Length);
        foreach (ManifestText text in manifest.Texts)
        {
            byte[] data = Decode(text, manifest.Name, manifestDisplayName);
            string path = Path.Combine(directory, text.Path);
            using AtomicFile output = AtomicFile.Create(path);
            output.Stream.Write(data);
            output.Commit();
            written.Add(path);
        }

        return written;
    }

    /// <summary>Decodes one text file and checks it against the manifest's length and SHA-256.</summary>
    public static byte[] Decode(ManifestText text, string version, string manifestDisplayName)
    {
        byte[] data = ArchiveReader.Decode(text.Archive, MaxFileLength);
        var actual = Sha256Digest.Compute(data);
        if (data.Length != text.Length || actual != text.Sha256)
        {
            throw new Z4AiIntegrityException(
                $"text file '{text.Path}' of version '{version}'", text.Sha256.ToString(), actual.ToString(), manifestDisplayName);
        }

        return data;
    }

    /// <summary>Appends the <c>texts</c> member (only when there are texts, so other manifests stay as they were).</summary>
    public static void Write(Utf8JsonWriter w, ManifestText[] texts)
    {
        if (texts.Length == 0)
        {
            return;
        }

        w.WriteStartArray("texts");
        foreach (ManifestText text in texts)
        {
            w.WriteStartObject();
            w.WriteString("path", text.Path);
            w.WriteNumber("length", text.Length);
            w.WriteString("sha256", text.Sha256.ToString());
            w.WriteBase64String("archive", text.Archive);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>Reads the <c>texts</c> member: plain, distinct file names, lengths within the limit, well-formed archives.</summary>
    public static ManifestText[] Parse(ref Utf8JsonReader r, string file)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartArray, "texts", file);
        var texts = new List<ManifestText>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            JsonRead.Next(ref r, file);
            if (r.TokenType == JsonTokenType.EndArray)
            {
                break;
            }

            if (texts.Count == MaxFiles)
            {
                throw JsonRead.Error($"more than {MaxFiles} text files", file, r.TokenStartIndex);
            }

            long start = r.TokenStartIndex;
            JsonRead.Expect(ref r, JsonTokenType.StartObject, "texts[]", file);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? path = null;
            long length = -1;
            Sha256Digest? sha = null;
            byte[]? archive = null;
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
                        path = JsonRead.String(ref r, "texts.path", file);
                        break;
                    case "length":
                        length = JsonRead.Int64(ref r, "texts.length", file, 0, MaxFileLength);
                        break;
                    case "sha256":
                        sha = JsonRead.Digest(ref r, "texts.sha256", file);
                        break;
                    case "archive":
                        archive = JsonRead.Base64(ref r, "texts.archive", file, MaxArchiveLength);
                        break;
                    default:
                        r.Skip();
                        break;
                }
            }

            if (path is null || length < 0 || sha is null || archive is null)
            {
                throw JsonRead.Error("a text file needs \"path\", \"length\", \"sha256\" and \"archive\"", file, start);
            }

            if (!SafeFileName.IsValid(path) || !names.Add(path))
            {
                throw JsonRead.Error($"text file name '{path}' is not a plain file name or appears twice", file, start);
            }

            if (ArchiveReader.Scan(archive, MaxFileLength).TotalLength != length)
            {
                throw JsonRead.Error($"text file '{path}' declares {length} bytes but its archive holds another length", file, start);
            }

            texts.Add(new ManifestText(path, length, sha.Value, archive));
        }

        return [.. texts];
    }

    private static bool IsModelText(string name) =>
        !IsModelFile(name)
        && SafeFileName.IsValid(name)
        && (ExactNames.Contains(name, StringComparer.Ordinal)
            || (name.StartsWith("tokenizer", StringComparison.Ordinal) && name.EndsWith(".json", StringComparison.Ordinal))
            || name.StartsWith("README", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase));

    private static bool IsModelFile(string name) =>
        name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".z4ai", StringComparison.OrdinalIgnoreCase);
}
