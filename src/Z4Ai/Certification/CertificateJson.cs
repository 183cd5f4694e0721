using System.Buffers;
using System.Text.Json;
using Z4Ai.Integrity;

namespace Z4Ai.Certification;

/// <summary>
/// Canonical JSON for fidelity certificates, written with <see cref="Utf8JsonWriter"/> in a fixed key order (no
/// reflection) and parsed with <see cref="JsonDocument"/>. Doubles use the shortest round-trip form, so
/// parse-then-write reproduces the bytes; a non-finite error measure is written as null.
/// </summary>
internal static class CertificateJson
{
    public const string FormatName = "z4ai-fidelity-certificate";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, IndentSize = 2, NewLine = "\n" };

    public static byte[] Write(FidelityCertificate c)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", FidelityCertificate.FormatVersion);
            w.WriteBoolean("passed", c.Passed);

            w.WriteStartObject("delta");
            w.WriteString("sha256", c.DeltaSha256);
            w.WriteNumber("length", c.DeltaLength);
            w.WriteNumber("format_version", c.DeltaFormatVersion);
            if (c.DeltaBinding is not null)
            {
                w.WriteString("binding", c.DeltaBinding);
            }

            w.WriteEndObject();

            w.WriteStartObject("models");
            w.WriteString("base_sha256", c.BaseSha256);
            w.WriteString("target_sha256", c.TargetSha256);
            w.WriteString("reconstructed_sha256", c.ReconstructedSha256);
            w.WriteEndObject();

            LossyTierSettings s = c.Settings;
            w.WriteStartObject("settings");
            w.WriteString("tier", s.Tier.GetName());
            w.WriteNumber("group_size", s.GroupSize);
            w.WriteNumber("outlier_ppm", s.OutlierPpm);
            w.WriteNumber("sparse_ppm", s.SparsePpm);
            w.WriteBoolean("drop_and_rescale", s.DropAndRescale);
            w.WriteBoolean("refine_scales", s.RefineScales);
            w.WriteNumber("seed", s.Seed);
            w.WriteNumber("min_elements", s.MinElements);
            w.WriteEndObject();

            w.WriteStartObject("criteria");
            w.WriteNumber("max_drop", c.Criteria.MaxDrop);
            w.WriteNumber("min_p", c.Criteria.MinPValue);
            w.WriteNumber("confidence", c.Criteria.Confidence);
            w.WriteEndObject();

            CertificateEvaluation e = c.Evaluation;
            w.WriteStartObject("evaluation");
            w.WriteString("task", e.Task);
            w.WriteString("evaluator", e.Evaluator);
            WriteStringOrNull(w, "data_sha256", e.DataSha256);
            w.WriteNumber("examples", e.Examples);
            w.WriteString("metric", e.MetricName);
            w.WriteBoolean("higher_is_better", e.HigherIsBetter);
            WriteNumberOrNull(w, "base", e.BaseMetric);
            w.WriteNumber("before", e.MetricBefore);
            w.WriteNumber("after", e.MetricAfter);
            WriteNumberOrNull(w, "prediction_flips", e.PredictionFlips);
            WriteNumberOrNull(w, "target_only_correct", e.TargetOnlyCorrect);
            WriteNumberOrNull(w, "reconstructed_only_correct", e.ReconstructedOnlyCorrect);
            WriteNumberOrNull(w, "mcnemar_p", e.McNemarP);
            w.WriteNumber("confidence", e.Confidence);
            WriteNumberOrNull(w, "accuracy_change_low", e.AccuracyChangeLow);
            WriteNumberOrNull(w, "accuracy_change_high", e.AccuracyChangeHigh);
            w.WriteEndObject();

            w.WriteStartArray("tensors");
            foreach (LossyTensorInfo t in c.Tensors)
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
                w.WriteString("mode", t.Mode.GetName());
                w.WriteNumber("raw_bytes", t.RawBytes);
                w.WriteNumber("stored_bytes", t.StoredBytes);
                WriteNumberOrNull(w, "relative_l2", t.RelativeL2);
                WriteNumberOrNull(w, "relative_l2_of_delta", t.RelativeL2OfDelta);
                WriteNumberOrNull(w, "max_abs", t.MaxAbs);
                w.WriteString("target_sha256", t.TargetSha256);
                WriteStringOrNull(w, "base_sha256", t.BaseSha256);
                w.WriteString("reconstructed_sha256", t.ReconstructedSha256);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    public static FidelityCertificate Parse(ReadOnlySpan<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw Malformed($"it is not JSON ({ex.Message})", ex);
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
            {
                throw Malformed(ex.Message, ex);
            }
        }
    }

    private static FidelityCertificate Read(JsonElement root)
    {
        RequireObject(root, "the document");
        if (String(root, "format") != FormatName)
        {
            throw new FormatException($"its format is not \"{FormatName}\"");
        }

        int version = Int32(root, "version");
        if (version != FidelityCertificate.FormatVersion)
        {
            throw new FormatException($"certificate version {version}; this library reads version {FidelityCertificate.FormatVersion}");
        }

        JsonElement delta = Object(root, "delta");
        JsonElement models = Object(root, "models");
        JsonElement s = Object(root, "settings");
        JsonElement criteria = Object(root, "criteria");
        JsonElement e = Object(root, "evaluation");
        var settings = new LossyTierSettings(
            LossyTiers.Parse(String(s, "tier")),
            Int32(s, "group_size"),
            Int32(s, "outlier_ppm"),
            Int32(s, "sparse_ppm"),
            Bool(s, "drop_and_rescale"),
            Bool(s, "refine_scales"),
            Property(s, "seed").GetUInt64(),
            Int32(s, "min_elements"));
        var evaluation = new CertificateEvaluation(
            String(e, "task"),
            String(e, "evaluator"),
            Digest(e, "data_sha256", nullable: true),
            Int32(e, "examples"),
            String(e, "metric"),
            Bool(e, "higher_is_better"),
            NullableDouble(e, "base"),
            Double(e, "before"),
            Double(e, "after"),
            NullableInt32(e, "prediction_flips"),
            NullableInt32(e, "target_only_correct"),
            NullableInt32(e, "reconstructed_only_correct"),
            NullableDouble(e, "mcnemar_p"),
            Double(e, "confidence"),
            NullableDouble(e, "accuracy_change_low"),
            NullableDouble(e, "accuracy_change_high"));
        JsonElement tensorArray = Property(root, "tensors");
        if (tensorArray.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("'tensors' is not an array");
        }

        var tensors = new List<LossyTensorInfo>();
        foreach (JsonElement t in tensorArray.EnumerateArray())
        {
            RequireObject(t, "a tensor entry");
            if (!DTypeInfo.TryParse(String(t, "dtype"), out DType dtype))
            {
                throw new FormatException($"tensor '{String(t, "name")}' has an unknown dtype");
            }

            JsonElement shapeArray = Property(t, "shape");
            if (shapeArray.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("a tensor's shape is not an array");
            }

            long[] shape = shapeArray.EnumerateArray().Select(d => d.GetInt64()).ToArray();
            tensors.Add(new LossyTensorInfo(
                String(t, "name"),
                dtype,
                shape,
                LossyTiers.Parse(String(t, "mode")),
                Int64(t, "raw_bytes"),
                Int64(t, "stored_bytes"),
                ErrorMeasure(t, "relative_l2"),
                ErrorMeasure(t, "relative_l2_of_delta"),
                ErrorMeasure(t, "max_abs"),
                Digest(t, "target_sha256", nullable: false)!,
                Digest(t, "base_sha256", nullable: true),
                Digest(t, "reconstructed_sha256", nullable: false)!));
        }

        return new FidelityCertificate(
            Digest(delta, "sha256", nullable: false)!,
            Int64(delta, "length"),
            Int32(delta, "format_version"),
            Digest(models, "base_sha256", nullable: false)!,
            Digest(models, "target_sha256", nullable: false)!,
            Digest(models, "reconstructed_sha256", nullable: false)!,
            settings,
            tensors,
            evaluation,
            new CertificationCriteria(Double(criteria, "max_drop"), Double(criteria, "min_p"), Double(criteria, "confidence")),
            Bool(root, "passed"))
        {
            DeltaBinding = delta.TryGetProperty("binding", out JsonElement binding) ? binding.GetString() : null,
        };
    }

    private static Z4AiCertificationException Malformed(string reason, Exception inner) =>
        new(Z4AiErrorKind.CertificateMismatch, $"the certificate is malformed: {reason}", inner);

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void RequireObject(JsonElement e, string what)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{what} is not a JSON object");
        }
    }

    private static JsonElement Property(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement value) ? value : throw new FormatException($"the field '{name}' is missing");

    private static JsonElement Object(JsonElement e, string name)
    {
        JsonElement value = Property(e, name);
        RequireObject(value, $"'{name}'");
        return value;
    }

    private static string String(JsonElement e, string name) =>
        Property(e, name).GetString() ?? throw new FormatException($"the field '{name}' is null");

    private static bool Bool(JsonElement e, string name) => Property(e, name).GetBoolean();

    private static int Int32(JsonElement e, string name) => Property(e, name).GetInt32();

    private static long Int64(JsonElement e, string name) => Property(e, name).GetInt64();

    private static double Double(JsonElement e, string name)
    {
        double v = Property(e, name).GetDouble();
        return double.IsFinite(v) ? v : throw new FormatException($"the field '{name}' is not finite");
    }

    private static double? NullableDouble(JsonElement e, string name)
    {
        JsonElement v = Property(e, name);
        return v.ValueKind == JsonValueKind.Null ? null : v.GetDouble();
    }

    private static int? NullableInt32(JsonElement e, string name)
    {
        JsonElement v = Property(e, name);
        return v.ValueKind == JsonValueKind.Null ? null : v.GetInt32();
    }

    // Error measures are infinite only when a tensor that did not change was not reproduced; JSON has no infinity.
    private static double ErrorMeasure(JsonElement e, string name) => NullableDouble(e, name) ?? double.PositiveInfinity;

    private static string? Digest(JsonElement e, string name, bool nullable)
    {
        JsonElement v = Property(e, name);
        if (v.ValueKind == JsonValueKind.Null && nullable)
        {
            return null;
        }

        string text = v.GetString() ?? throw new FormatException($"the field '{name}' is null");
        if (!Sha256Digest.TryParse(text, out Sha256Digest digest) || digest.ToString() != text)
        {
            throw new FormatException($"the field '{name}' is not a lowercase SHA-256");
        }

        return text;
    }
}
