using System.Text.Json;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <summary>How one tensor of a lossy version relates to the model it was made from (docs/registry-format.md, 3.3).</summary>
/// <param name="Mode">The tier the tensor is stored in; <see cref="LossyTier.Lossless"/> for exact tensors.</param>
/// <param name="Target">The SHA-256 of the target's tensor (the tensor's own SHA-256 is that of the reconstruction).</param>
/// <param name="Base">The SHA-256 of the reference's tensor it was coded against, if any.</param>
/// <param name="RelativeL2">‖r − t‖ / ‖t‖.</param>
/// <param name="RelativeL2OfDelta">‖r − t‖ / ‖t − b‖.</param>
/// <param name="MaxAbs">max |r − t|.</param>
internal sealed record ManifestLossyTensor(
    LossyTier Mode, Sha256Digest Target, Sha256Digest? Base, double RelativeL2, double RelativeL2OfDelta, double MaxAbs);

/// <summary>The certificate a lossy version was published with: the SHA-256 of its canonical JSON and its verdict.</summary>
internal sealed record ManifestCertificate(Sha256Digest Sha256, bool Passed);

/// <summary>
/// What a lossy version records beyond a lossless one: the version its records apply to, the tier settings, the
/// identities of the reference, the target and the reconstruction, and whether it was stored without a passing
/// certificate because the caller forced it.
/// </summary>
internal sealed record ManifestLossy(
    string Reference,
    LossyTierSettings Settings,
    Sha256Digest BaseModel,
    Sha256Digest TargetModel,
    Sha256Digest ReconstructedModel,
    bool Forced);

/// <summary>The JSON of the lossy members of a manifest, kept apart from <see cref="ManifestJson"/>.</summary>
internal static class ManifestLossyJson
{
    public static void WriteCertificate(Utf8JsonWriter w, ManifestCertificate? certificate)
    {
        if (certificate is null)
        {
            w.WriteNull("certificate");
            return;
        }

        w.WriteStartObject("certificate");
        w.WriteString("sha256", certificate.Sha256.ToString());
        w.WriteBoolean("passed", certificate.Passed);
        w.WriteEndObject();
    }

    public static void WriteLossy(Utf8JsonWriter w, ManifestLossy? lossy)
    {
        if (lossy is null)
        {
            return;
        }

        w.WriteStartObject("lossy");
        w.WriteString("reference", lossy.Reference);
        LossyTierSettings s = lossy.Settings;
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
        w.WriteString("base_sha256", lossy.BaseModel.ToString());
        w.WriteString("target_sha256", lossy.TargetModel.ToString());
        w.WriteString("reconstructed_sha256", lossy.ReconstructedModel.ToString());
        w.WriteBoolean("forced", lossy.Forced);
        w.WriteEndObject();
    }

    public static void WriteTensor(Utf8JsonWriter w, ManifestLossyTensor? t)
    {
        if (t is null)
        {
            return;
        }

        w.WriteStartObject("lossy");
        w.WriteString("mode", t.Mode.GetName());
        w.WriteString("target", t.Target.ToString());
        if (t.Base is Sha256Digest b)
        {
            w.WriteString("base", b.ToString());
        }
        else
        {
            w.WriteNull("base");
        }

        WriteMeasure(w, "relative_l2", t.RelativeL2);
        WriteMeasure(w, "relative_l2_of_delta", t.RelativeL2OfDelta);
        WriteMeasure(w, "max_abs", t.MaxAbs);
        w.WriteEndObject();
    }

    public static ManifestCertificate? ParseCertificate(ref Utf8JsonReader r, string file)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        JsonRead.Expect(ref r, JsonTokenType.StartObject, "certificate", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Sha256Digest? sha = null;
        bool? passed = null;
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
                case "sha256":
                    sha = JsonRead.Digest(ref r, "certificate.sha256", file);
                    break;
                case "passed":
                    passed = JsonRead.Boolean(ref r, "certificate.passed", file);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        return sha is null || passed is null
            ? throw JsonRead.Error("certificate needs \"sha256\" and \"passed\"", file, r.TokenStartIndex)
            : new ManifestCertificate(sha.Value, passed.Value);
    }

    public static ManifestLossy ParseLossy(ref Utf8JsonReader r, string file)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "lossy", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? reference = null;
        LossyTierSettings? settings = null;
        Sha256Digest? baseModel = null;
        Sha256Digest? target = null;
        Sha256Digest? reconstructed = null;
        bool? forced = null;
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
                case "reference":
                    reference = JsonRead.String(ref r, "lossy.reference", file);
                    if (!RegistryLayout.IsValidVersionName(reference))
                    {
                        throw JsonRead.Error($"lossy.reference '{reference}' is not a valid version name", file, r.TokenStartIndex);
                    }

                    break;
                case "settings":
                    settings = ParseSettings(ref r, file);
                    break;
                case "base_sha256":
                    baseModel = JsonRead.Digest(ref r, "lossy.base_sha256", file);
                    break;
                case "target_sha256":
                    target = JsonRead.Digest(ref r, "lossy.target_sha256", file);
                    break;
                case "reconstructed_sha256":
                    reconstructed = JsonRead.Digest(ref r, "lossy.reconstructed_sha256", file);
                    break;
                case "forced":
                    forced = JsonRead.Boolean(ref r, "lossy.forced", file);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (reference is null || settings is null || baseModel is null || target is null || reconstructed is null || forced is null)
        {
            throw JsonRead.Error(
                "lossy needs \"reference\", \"settings\", \"base_sha256\", \"target_sha256\", \"reconstructed_sha256\" and \"forced\"", file, r.TokenStartIndex);
        }

        return new ManifestLossy(reference, settings, baseModel.Value, target.Value, reconstructed.Value, forced.Value);
    }

    public static ManifestLossyTensor ParseTensor(ref Utf8JsonReader r, string file, string tensor)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, $"lossy of tensor '{tensor}'", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        LossyTier? mode = null;
        Sha256Digest? target = null;
        Sha256Digest? @base = null;
        bool baseSeen = false;
        double l2 = double.NaN;
        double l2Delta = double.NaN;
        double maxAbs = double.NaN;
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
                case "mode":
                    string m = JsonRead.String(ref r, "lossy.mode", file);
                    mode = LossyTiers.TryParse(m, out LossyTier? parsed) && parsed.Value.GetName() == m
                        ? parsed.Value
                        : throw JsonRead.Error($"unknown lossy mode '{m}'", file, r.TokenStartIndex);
                    break;
                case "target":
                    target = JsonRead.Digest(ref r, "lossy.target", file);
                    break;
                case "base":
                    baseSeen = true;
                    @base = r.TokenType == JsonTokenType.Null ? null : JsonRead.Digest(ref r, "lossy.base", file);
                    break;
                case "relative_l2":
                    l2 = ReadMeasure(ref r, property, file);
                    break;
                case "relative_l2_of_delta":
                    l2Delta = ReadMeasure(ref r, property, file);
                    break;
                case "max_abs":
                    maxAbs = ReadMeasure(ref r, property, file);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (mode is null || target is null || !baseSeen || !seen.Contains("relative_l2") || !seen.Contains("relative_l2_of_delta") || !seen.Contains("max_abs"))
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer, "a lossy tensor record needs mode, target, base, relative_l2, relative_l2_of_delta and max_abs", file, tensor);
        }

        if (mode != LossyTier.Lossless && @base is null)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, $"a {mode.Value.GetName()} tensor names the base tensor it was coded against", file, tensor);
        }

        return new ManifestLossyTensor(mode.Value, target.Value, @base, l2, l2Delta, maxAbs);
    }

    private static LossyTierSettings ParseSettings(ref Utf8JsonReader r, string file)
    {
        JsonRead.Expect(ref r, JsonTokenType.StartObject, "lossy.settings", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        LossyTier? tier = null;
        long group = -1;
        long outliers = -1;
        long sparse = -1;
        bool drop = false;
        bool refine = false;
        ulong seed = 0;
        long minElements = -1;
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
                case "tier":
                    string t = JsonRead.String(ref r, "settings.tier", file);
                    tier = LossyTiers.TryParse(t, out LossyTier? parsed) && parsed.Value != LossyTier.Lossless && parsed.Value.GetName() == t
                        ? parsed.Value
                        : throw JsonRead.Error($"settings.tier '{t}' is not a lossy tier (int8, int4, sparse or 1bit)", file, r.TokenStartIndex);
                    break;
                case "group_size":
                    group = JsonRead.Int64(ref r, "settings.group_size", file, 0, int.MaxValue);
                    break;
                case "outlier_ppm":
                    outliers = JsonRead.Int64(ref r, "settings.outlier_ppm", file, 0, 1_000_000);
                    break;
                case "sparse_ppm":
                    sparse = JsonRead.Int64(ref r, "settings.sparse_ppm", file, 0, 1_000_000);
                    break;
                case "drop_and_rescale":
                    drop = JsonRead.Boolean(ref r, "settings.drop_and_rescale", file);
                    break;
                case "refine_scales":
                    refine = JsonRead.Boolean(ref r, "settings.refine_scales", file);
                    break;
                case "seed":
                    if (r.TokenType != JsonTokenType.Number || !r.TryGetUInt64(out seed))
                    {
                        throw JsonRead.Error("settings.seed must be an unsigned 64-bit integer", file, r.TokenStartIndex);
                    }

                    break;
                case "min_elements":
                    minElements = JsonRead.Int64(ref r, "settings.min_elements", file, 0, int.MaxValue);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (tier is null || group < 0 || outliers < 0 || sparse < 0 || minElements < 0 || !seen.Contains("seed")
            || !seen.Contains("drop_and_rescale") || !seen.Contains("refine_scales"))
        {
            throw JsonRead.Error("lossy.settings lacks a member (tier, group_size, outlier_ppm, sparse_ppm, drop_and_rescale, refine_scales, seed, min_elements)", file, r.TokenStartIndex);
        }

        return new LossyTierSettings(tier.Value, (int)group, (int)outliers, (int)sparse, drop, refine, seed, (int)minElements);
    }

    private static void WriteMeasure(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static double ReadMeasure(ref Utf8JsonReader r, string what, string file)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            return double.PositiveInfinity;
        }

        if (r.TokenType != JsonTokenType.Number || !r.TryGetDouble(out double value) || !double.IsFinite(value) || value < 0)
        {
            throw JsonRead.Error($"{what} must be a non-negative number or null", file, r.TokenStartIndex);
        }

        return value;
    }
}
