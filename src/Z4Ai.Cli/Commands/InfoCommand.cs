using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Z4Ai.Cli.Commands;

/// <summary>
/// <c>z4ai info</c>: what a file holds, per tensor and in total; for a .z4f buffer frame (or one container tensor
/// with <c>--streams</c>) the recipe and the per-stream breakdown.
/// </summary>
internal static class InfoCommand
{
    private static readonly string[] Columns = ["tensor", "dtype", "shape", "raw", "stored", "ratio", "codec"];

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "a .z4ai container, a .safetensors file, a .z4delta model delta or a .z4al lossy delta" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var streams = new Option<string?>("--streams") { Description = "for a container: the recipe and per-stream breakdown of this tensor" };
        var command = new Command("info", "Show the tensors of a file: dtype, shape, raw and stored size, ratio and codec per tensor, and totals. For a model delta: the base and target model digests and how each tensor is stored (copy, delta with its per-chunk transforms, scratch); the base is not needed. For a lossy delta: the tier, per-tensor errors and whether its certificate matches and passed. For a .z4f buffer frame (or a container tensor with --streams): the recipe, each stream's coder and bits per element.\n" + ExitCodes.HelpText)
        {
            file, json, streams,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file", path);
            }

            if (UnarchiveCommand.IsArchiveFile(path))
            {
                context.Output.WriteLine($"{path}: z4ai archive");
                return UnarchiveCommand.Describe(context, path);
            }

            if (DecompressCommand.IsBufferFrame(path))
            {
                CodecFrameInfo frame;
                using (FileStream stream = File.OpenRead(path))
                {
                    frame = Z4AiCodec.Inspect(stream);
                }

                context.Output.WriteLine(parse.GetValue(json) ? FrameJson(path, frame) : FrameText($"{path}: z4ai buffer frame", frame));
                return ExitCodes.Ok;
            }

            if (parse.GetValue(streams) is string tensorName)
            {
                if (!Z4AiContainer.IsContainer(path))
                {
                    throw new CliUsageException("--streams needs a .z4ai container");
                }

                CodecFrameInfo tensor = Z4AiCodec.InspectContainerTensor(path, tensorName);
                context.Output.WriteLine(parse.GetValue(json) ? FrameJson(path, tensor) : FrameText($"{path}: tensor {tensorName}", tensor));
                return ExitCodes.Ok;
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

    /// <summary>The human-readable breakdown of a frame (or container tensor).</summary>
    internal static string FrameText(string title, CodecFrameInfo info)
    {
        var sb = new StringBuilder();
        string shape = info.Shape is null ? string.Empty : " [" + string.Join(",", info.Shape) + "]";
        sb.AppendLine(CultureInfo.InvariantCulture, $"{title}: {info.DType.GetName()}{shape}, {Units.Bytes(info.RawLength)} -> {Units.Bytes(info.FrameLength)} ({Units.Ratio(info.Ratio)}, {info.BitsPerElement:0.000} bits/element), {info.ChunkCount} chunk(s) of {Units.Bytes(info.ChunkSize)}, SHA-256 {info.Sha256} verified");
        if (info.ExponentEntropyBits is double exponent)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"field entropy (order 0, bits/element): sign {info.SignEntropyBits:0.000}, exponent {exponent:0.000}, mantissa {info.MantissaEntropyBits:0.000}");
        }

        foreach ((string recipe, int chunks) in info.Recipes)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"recipe ({chunks} chunk(s)): {recipe}");
        }

        List<string[]> rows = [["stream", "coder", "chunks", "raw", "coded", "bits/element"]];
        foreach (CodecStreamInfo s in info.Streams)
        {
            rows.Add([s.Path, s.Coder, s.Chunks.ToString(CultureInfo.InvariantCulture), Units.Bytes(s.RawBytes), Units.Bytes(s.EncodedBytes), s.BitsPerElement.ToString("0.000", CultureInfo.InvariantCulture)]);
        }

        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (string[] row in rows)
        {
            for (int c = 0; c < row.Length; c++)
            {
                sb.Append(c >= 2 ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]));
                sb.Append(c == row.Length - 1 ? string.Empty : "  ");
            }

            sb.AppendLine();
        }

        return sb.ToString().TrimEnd();
    }

    private static string FrameJson(string path, CodecFrameInfo info)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", path);
            w.WriteString("dtype", info.DType.GetName());
            if (info.Shape is not null)
            {
                w.WriteStartArray("shape");
                foreach (long d in info.Shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
            }

            w.WriteNumber("rawBytes", info.RawLength);
            w.WriteNumber("frameBytes", info.FrameLength);
            w.WriteNumber("ratio", Math.Round(info.Ratio, 6));
            w.WriteNumber("bitsPerElement", Math.Round(info.BitsPerElement, 6));
            w.WriteNumber("chunkSize", info.ChunkSize);
            w.WriteNumber("chunks", info.ChunkCount);
            w.WriteString("sha256", info.Sha256);
            if (info.ExponentEntropyBits is double exponent)
            {
                w.WriteNumber("signEntropyBits", Math.Round(info.SignEntropyBits ?? 0, 6));
                w.WriteNumber("exponentEntropyBits", Math.Round(exponent, 6));
                w.WriteNumber("mantissaEntropyBits", Math.Round(info.MantissaEntropyBits ?? 0, 6));
            }

            w.WriteStartArray("recipes");
            foreach ((string recipe, int chunks) in info.Recipes)
            {
                w.WriteStartObject();
                w.WriteString("recipe", recipe);
                w.WriteNumber("chunks", chunks);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("streams");
            foreach (CodecStreamInfo s in info.Streams)
            {
                w.WriteStartObject();
                w.WriteString("path", s.Path);
                w.WriteString("coder", s.Coder);
                w.WriteNumber("chunks", s.Chunks);
                w.WriteNumber("rawBytes", s.RawBytes);
                w.WriteNumber("codedBytes", s.EncodedBytes);
                w.WriteNumber("bitsPerElement", Math.Round(s.BitsPerElement, 6));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
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
