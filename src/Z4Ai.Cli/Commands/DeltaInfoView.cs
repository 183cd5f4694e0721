using System.Text;
using System.Text.Json;

namespace Z4Ai.Cli.Commands;

/// <summary>How <c>z4ai info</c> shows a model-delta file.</summary>
internal static class DeltaInfoView
{
    private static readonly string[] Columns = ["tensor", "dtype", "shape", "raw", "stored", "ratio", "stored as"];

    /// <summary>"3 copy, 2 delta, 1 scratch".</summary>
    public static string Modes(IReadOnlyList<ModelDeltaTensorInfo> tensors) =>
        $"{tensors.Count(t => t.Mode == ModelDeltaTensorMode.Copy)} copy, {tensors.Count(t => t.Mode == ModelDeltaTensorMode.Delta)} delta, "
        + $"{tensors.Count(t => t.Mode == ModelDeltaTensorMode.Scratch)} scratch";

    public static string Header(ModelDeltaInfo info)
    {
        var sb = new StringBuilder();
        sb.Append($"{info.FilePath}: z4ai model delta v{info.FormatVersion}, {info.Tensors.Count} tensors ({Modes(info.Tensors)}), ");
        sb.AppendLine($"{Units.Bytes(info.RawBytes)} raw -> {Units.Bytes(info.FileLength)} ({Units.Ratio(info.Ratio)}), chunk {Units.Bytes(info.ChunkSize)}, segment {Units.Bytes(info.SegmentSize)}");
        sb.AppendLine($"base model:   {info.BaseModelSha256} ({info.BaseTensorCount} tensors; undelta needs it)");
        sb.AppendLine($"target model: {info.TargetModelSha256}");
        sb.Append(info.HeaderSynthesized
            ? "restores: a canonical .safetensors file (the target container kept no original header)"
            : "restores: the target .safetensors file, byte for byte");
        return sb.ToString();
    }

    public static string Table(ModelDeltaInfo info)
    {
        List<string[]> rows = [Columns];
        foreach (ModelDeltaTensorInfo t in info.Tensors)
        {
            rows.Add(
            [
                t.Name,
                t.DType.GetName(),
                "[" + string.Join(",", t.Shape) + "]",
                Units.Bytes(t.RawBytes),
                Units.Bytes(t.StoredBytes),
                t.Mode == ModelDeltaTensorMode.Copy ? "-" : Units.Ratio(t.Ratio),
                StoredAs(t),
            ]);
        }

        int[] widths = Enumerable.Range(0, Columns.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (string[] row in rows)
        {
            for (int c = 0; c < row.Length; c++)
            {
                sb.Append(c is 3 or 4 or 5 ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
                sb.Append(c == row.Length - 1 ? string.Empty : "  ");
            }

            sb.AppendLine();
        }

        return sb.ToString().TrimEnd();
    }

    public static string Json(ModelDeltaInfo info)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", info.FilePath);
            w.WriteString("kind", "model-delta");
            w.WriteNumber("formatVersion", info.FormatVersion);
            w.WriteNumber("fileBytes", info.FileLength);
            w.WriteNumber("rawBytes", info.RawBytes);
            w.WriteNumber("ratio", Math.Round(info.Ratio, 6));
            w.WriteNumber("chunkSize", info.ChunkSize);
            w.WriteNumber("frameSize", info.FrameSize);
            w.WriteNumber("segmentSize", info.SegmentSize);
            w.WriteString("baseModelSha256", info.BaseModelSha256);
            w.WriteNumber("baseTensorCount", info.BaseTensorCount);
            w.WriteString("targetModelSha256", info.TargetModelSha256);
            w.WriteBoolean("byteExactRestore", !info.HeaderSynthesized);
            if (info.Metadata is not null)
            {
                w.WriteStartObject("metadata");
                foreach ((string key, string value) in info.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }

            w.WriteStartArray("tensors");
            foreach (ModelDeltaTensorInfo t in info.Tensors)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("dtype", t.DType.GetName());
                WriteShape(w, "shape", t.Shape);
                w.WriteNumber("rawBytes", t.RawBytes);
                w.WriteNumber("storedBytes", t.StoredBytes);
                w.WriteString("mode", t.Mode.ToString().ToLowerInvariant());
                w.WriteString("sha256", t.Sha256);
                if (t.BaseTensor is not null)
                {
                    w.WriteStartObject("base");
                    w.WriteString("name", t.BaseTensor);
                    w.WriteString("dtype", t.BaseDType!.Value.GetName());
                    WriteShape(w, "shape", t.BaseShape!);
                    w.WriteString("sha256", t.BaseSha256);
                    w.WriteEndObject();
                }

                w.WriteStartObject("chunks");
                foreach (DeltaChunkMode mode in Enum.GetValues<DeltaChunkMode>())
                {
                    w.WriteNumber(mode.ToString().ToLowerInvariant(), t.CountChunks(mode));
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string StoredAs(ModelDeltaTensorInfo t)
    {
        string other = t.BaseTensor is null || t.BaseTensor == t.Name ? string.Empty : $" '{t.BaseTensor}'";
        return t.Mode switch
        {
            ModelDeltaTensorMode.Copy => $"copy{(other.Length == 0 ? " (unchanged)" : " of" + other)}",
            ModelDeltaTensorMode.Delta => $"delta{(other.Length == 0 ? string.Empty : " vs" + other)}: {Chunks(t)}",
            _ => t.RawBytes == 0 ? "empty" : "scratch",
        };
    }

    private static string Chunks(ModelDeltaTensorInfo t) => string.Join(
        " ",
        Enum.GetValues<DeltaChunkMode>().Where(m => t.CountChunks(m) > 0).Select(m => $"{t.CountChunks(m)} {m.ToString().ToLowerInvariant()}"));

    private static void WriteShape(Utf8JsonWriter w, string name, IReadOnlyList<long> shape)
    {
        w.WriteStartArray(name);
        foreach (long d in shape)
        {
            w.WriteNumberValue(d);
        }

        w.WriteEndArray();
    }
}
