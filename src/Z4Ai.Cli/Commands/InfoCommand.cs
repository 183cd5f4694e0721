using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai info</c>: what a file holds, per tensor and in total.</summary>
internal static class InfoCommand
{
    private static readonly string[] Columns = ["tensor", "dtype", "shape", "raw", "stored", "ratio", "codec"];

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "a .z4ai container, a .safetensors file, a .z4delta model delta or a .z4al lossy delta" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("info", "Show the tensors of a file: dtype, shape, raw and stored size, ratio and codec per tensor, and totals. For a model delta: the base and target model digests and how each tensor is stored (copy, delta with its per-chunk transforms, scratch); the base is not needed. For a lossy delta: the tier, per-tensor errors and whether its certificate matches and passed.\n" + ExitCodes.HelpText)
        {
            file, json,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file", path);
            }

            if (LossyDelta.IsLossyDelta(path))
            {
                // Described without the base; the certificate next to it (DELTA.cert.json) is checked against its bytes.
                return LossyDeltaCli.Info(context, path, parse.GetValue(json));
            }

            if (DeltaCodec.IsModelDelta(path))
            {
                // A delta is described from its own bytes: the base model is not needed.
                ModelDeltaInfo delta = DeltaCodec.InspectFile(path);
                context.Output.WriteLine(parse.GetValue(json) ? DeltaInfoView.Json(delta) : DeltaInfoView.Header(delta) + Environment.NewLine + DeltaInfoView.Table(delta));
                return ExitCodes.Ok;
            }

            IReadOnlyList<TensorReport> tensors;
            string header;
            if (Z4AiContainer.IsContainer(path))
            {
                ContainerInfo info = Z4AiContainer.Inspect(path);
                tensors = info.Tensors;
                header = $"{path}: z4ai container v{info.FormatVersion}, {info.Tensors.Count} tensors, {Units.Bytes(info.RawBytes)} raw -> {Units.Bytes(info.FileLength)} ({Units.Ratio(info.Ratio)}), chunk {Units.Bytes(info.ChunkSize)}, byte-exact restore: {(info.CanRestoreOriginal ? "yes" : "no")}";
                if (parse.GetValue(json))
                {
                    context.Output.WriteLine(ToJson(info));
                    return ExitCodes.Ok;
                }
            }
            else
            {
                using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
                tensors = reader.Tensors.Select(t => new TensorReport(t.Name, t.DType, t.Shape, t.ByteLength, t.ByteLength, "none (plain)", null, string.Empty)).ToList();
                header = $"{path}: plain safetensors, {reader.Count} tensors, {Units.Bytes(new FileInfo(path).Length)}";
            }

            context.Output.WriteLine(header);
            context.Output.WriteLine(Table(tensors));
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static string Table(IReadOnlyList<TensorReport> tensors)
    {
        List<string[]> rows = [Columns];
        foreach (TensorReport t in tensors)
        {
            rows.Add(
            [
                t.Name,
                t.DType.GetName(),
                "[" + string.Join(",", t.Shape) + "]",
                Units.Bytes(t.RawBytes),
                Units.Bytes(t.StoredBytes),
                Units.Ratio(t.Ratio),
                t.DuplicateOf is null ? t.Codec : "dedup of " + t.DuplicateOf,
            ]);
        }

        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
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

    private static string ToJson(ContainerInfo info)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", info.FilePath);
            w.WriteNumber("formatVersion", info.FormatVersion);
            w.WriteNumber("fileBytes", info.FileLength);
            w.WriteNumber("rawBytes", info.RawBytes);
            w.WriteNumber("ratio", Math.Round(info.Ratio, 6));
            w.WriteNumber("chunkSize", info.ChunkSize);
            w.WriteBoolean("byteExactRestore", info.CanRestoreOriginal);
            w.WriteStartArray("tensors");
            foreach (TensorReport t in info.Tensors)
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
                w.WriteNumber("rawBytes", t.RawBytes);
                w.WriteNumber("storedBytes", t.StoredBytes);
                w.WriteString("codec", t.Codec);
                if (t.DuplicateOf is not null)
                {
                    w.WriteString("duplicateOf", t.DuplicateOf);
                }

                w.WriteString("sha256", t.Sha256);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
