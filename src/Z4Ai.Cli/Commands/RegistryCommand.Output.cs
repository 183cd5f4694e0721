using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Z4Ai.Cli.Commands;

/// <content>Text and JSON output of the registry verbs.</content>
internal static partial class RegistryCommand
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    internal static string StorageName(TensorStorage storage) => storage switch
    {
        TensorStorage.Copy => "copy",
        TensorStorage.Scratch => "scratch",
        TensorStorage.DeltaFromParent => "delta-parent",
        _ => "delta-base",
    };

    private static void WriteAddSummary(TextWriter o, RegistryAddReport report)
    {
        o.WriteLine(
            $"added '{report.Name}' (parent {report.Parent ?? "none"}): {report.Tensors.Count} tensors, {Units.Bytes(report.LogicalBytes)} logical -> "
            + $"{Units.Bytes(report.StoredBytes + report.ManifestBytes)} stored ({Units.Ratio(report.Ratio)}), {Units.Rate(report.LogicalBytes, report.Elapsed)}");
        IEnumerable<string> counts = Enum.GetValues<TensorStorage>()
            .Select(s => (Storage: s, Count: report.Count(s)))
            .Where(x => x.Count > 0)
            .Select(x => $"{StorageName(x.Storage)} x{x.Count}");
        o.WriteLine($"  tensors: {string.Join(", ", counts)}");
        foreach (RegistryTensorReport t in report.Tensors.Where(t => t.Note is not null))
        {
            o.WriteLine($"  {t.Name}: {StorageName(t.Storage)} ({t.Note})");
        }
    }

    private static void WriteVerify(TextWriter o, RegistryVerifyReport report)
    {
        string counts = $"{report.VersionsChecked} versions, {report.ObjectsChecked} objects, {Units.Bytes(report.BytesChecked)} checked";
        if (report.Passed)
        {
            o.WriteLine("integrity: PASS (SHA-256)");
            o.WriteLine($"  {counts}");
            return;
        }

        o.WriteLine($"integrity: FAIL (SHA-256): {report.Issues.Count} problem(s), {report.BrokenVersions.Count} broken version(s)");
        o.WriteLine($"  {counts}");
        foreach (RegistryIssue issue in report.Issues)
        {
            o.WriteLine($"  {issue.Subject}: {issue.Problem}");
            if (issue.Versions.Count > 0)
            {
                o.WriteLine($"    breaks: {string.Join(", ", issue.Versions)}");
            }

            foreach (string tensor in issue.Tensors.Take(10))
            {
                o.WriteLine($"      {tensor}");
            }

            if (issue.Tensors.Count > 10)
            {
                o.WriteLine($"      ... and {issue.Tensors.Count - 10} more tensors");
            }
        }

        o.WriteLine($"  broken versions: {string.Join(", ", report.BrokenVersions)}");
    }

    private static void WriteList(TextWriter o, IReadOnlyList<RegistryVersion> versions, long objectBytes)
    {
        List<string[]> rows = [["name", "parent", "tier", "created (UTC)", "tensors", "logical", "stored", "ratio"]];
        foreach (RegistryVersion v in versions)
        {
            rows.Add(v.Damage is not null
                ? [v.Name, "?", "DAMAGED", string.Empty, string.Empty, string.Empty, string.Empty, v.Damage]
                : [
                    v.Name,
                    v.Parent ?? "(base)",
                    v.Certificate == RegistryCertificateStatus.None ? v.Tier : $"{v.Tier} ({CertificateStatusName(v.Certificate)})",
                    v.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    v.TensorCount.ToString(CultureInfo.InvariantCulture),
                    Units.Bytes(v.LogicalBytes),
                    Units.Bytes(v.StoredBytes + v.ManifestBytes),
                    Units.Ratio(v.Ratio),
                ]);
        }

        int columns = rows[0].Length - 1;
        int[] widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (string[] row in rows)
        {
            var sb = new StringBuilder();
            for (int c = 0; c <= columns; c++)
            {
                bool right = c is 4 or 5 or 6;
                string cell = c == columns ? row[c] : right ? row[c].PadLeft(widths[c]) : row[c].PadRight(widths[c]);
                sb.Append(cell).Append(c == columns ? string.Empty : "  ");
            }

            o.WriteLine(sb.ToString().TrimEnd());
        }

        long logical = versions.Sum(v => v.LogicalBytes);
        long manifests = versions.Sum(v => v.ManifestBytes);
        long stored = objectBytes + manifests;
        o.WriteLine(
            $"{versions.Count} versions: {Units.Bytes(logical)} if each were stored in full, {Units.Bytes(stored)} stored "
            + $"({Units.Bytes(objectBytes)} objects + {Units.Bytes(manifests)} manifests), {Units.Ratio(stored == 0 ? 0 : (double)logical / stored)}");
    }

    private static void WriteLog(TextWriter o, IReadOnlyList<RegistryVersion> lineage)
    {
        foreach (RegistryVersion v in lineage)
        {
            if (v.Damage is not null)
            {
                o.WriteLine($"{v.Name}  DAMAGED: {v.Damage}");
                continue;
            }

            string created = v.CreatedUtc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            string tier = v.Certificate == RegistryCertificateStatus.None ? string.Empty : $"  {v.Tier} (certificate {CertificateStatusName(v.Certificate)})";
            o.WriteLine($"{v.Name}  {(v.IsBase ? "(base)" : "parent " + v.Parent)}{tier}  {created}  {v.TensorCount} tensors  {Units.Bytes(v.LogicalBytes)} logical, {Units.Bytes(v.StoredBytes + v.ManifestBytes)} stored");
        }

        RegistryVersion last = lineage[^1];
        if (last.Damage is null && last.Parent is not null)
        {
            o.WriteLine($"{last.Parent}  (removed)");
        }
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Indented))
        {
            body(w);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string AddJson(RegistryAddReport r) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("name", r.Name);
        WriteNullable(w, "parent", r.Parent);
        w.WriteString("base", r.Base);
        w.WriteNumber("logicalBytes", r.LogicalBytes);
        w.WriteNumber("storedBytes", r.StoredBytes);
        w.WriteNumber("manifestBytes", r.ManifestBytes);
        w.WriteNumber("seconds", Math.Round(r.Elapsed.TotalSeconds, 3));
        w.WriteString("tier", r.Tier);
        if (r.Certificate is null)
        {
            w.WriteNull("certificate");
        }
        else
        {
            w.WriteStartObject("certificate");
            w.WriteString("sha256", r.Certificate.ComputeSha256());
            w.WriteBoolean("passed", r.Certificate.Passed);
            w.WriteEndObject();
        }

        w.WriteStartArray("tensors");
        foreach (RegistryTensorReport t in r.Tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("file", t.File);
            w.WriteString("dtype", t.DType.GetName());
            w.WriteStartArray("shape");
            foreach (long d in t.Shape)
            {
                w.WriteNumberValue(d);
            }

            w.WriteEndArray();
            w.WriteNumber("rawBytes", t.RawBytes);
            w.WriteNumber("storedBytes", t.StoredBytes);
            w.WriteString("storage", StorageName(t.Storage));
            w.WriteNumber("depth", t.Depth);
            w.WriteString("sha256", t.Sha256);
            WriteNullable(w, "reference", t.Reference);
            WriteNullable(w, "note", t.Note);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static string VerifyJson(RegistryVerifyReport r) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("integrity", r.Passed ? "PASS" : "FAIL");
        w.WriteString("hash", "SHA-256");
        w.WriteNumber("versionsChecked", r.VersionsChecked);
        w.WriteNumber("objectsChecked", r.ObjectsChecked);
        w.WriteNumber("bytesChecked", r.BytesChecked);
        w.WriteStartArray("issues");
        foreach (RegistryIssue issue in r.Issues)
        {
            w.WriteStartObject();
            w.WriteString("subject", issue.Subject);
            w.WriteString("problem", issue.Problem);
            WriteStrings(w, "versions", issue.Versions);
            WriteStrings(w, "tensors", issue.Tensors);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        WriteStrings(w, "brokenVersions", r.BrokenVersions);
        w.WriteEndObject();
    });

    private static string ListJson(string baseName, IReadOnlyList<RegistryVersion> versions, long objectBytes) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("base", baseName);
        w.WriteNumber("objectBytes", objectBytes);
        w.WriteNumber("manifestBytes", versions.Sum(v => v.ManifestBytes));
        w.WriteNumber("logicalBytes", versions.Sum(v => v.LogicalBytes));
        w.WritePropertyName("versions");
        WriteVersions(w, versions);
        w.WriteEndObject();
    });

    private static string VersionsJson(IReadOnlyList<RegistryVersion> versions) => Write(w => WriteVersions(w, versions));

    private static string GcJson(RegistryGcReport r) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("objectsScanned", r.ObjectsScanned);
        w.WriteNumber("objectsReachable", r.ObjectsReachable);
        w.WriteNumber("objectsSpared", r.ObjectsSpared);
        w.WriteNumber("objectsDeleted", r.ObjectsDeleted);
        w.WriteNumber("bytesFreed", r.BytesFreed);
        w.WriteNumber("temporaryFilesDeleted", r.TemporaryFilesDeleted);
        w.WriteNumber("seconds", Math.Round(r.Elapsed.TotalSeconds, 3));
        w.WriteEndObject();
    });

    private static void WriteVersions(Utf8JsonWriter w, IReadOnlyList<RegistryVersion> versions)
    {
        w.WriteStartArray();
        foreach (RegistryVersion v in versions)
        {
            WriteVersion(w, v);
        }

        w.WriteEndArray();
    }

    private static void WriteVersion(Utf8JsonWriter w, RegistryVersion v)
    {
        w.WriteStartObject();
        w.WriteString("name", v.Name);
        if (v.Damage is not null)
        {
            w.WriteString("damage", v.Damage);
            w.WriteEndObject();
            return;
        }

        WriteNullable(w, "parent", v.Parent);
        w.WriteString("base", v.Base);
        w.WriteString("tier", v.Tier);
        w.WriteString("certificate", CertificateStatusName(v.Certificate));
        WriteNullable(w, "certificateSha256", v.CertificateSha256);
        w.WriteString("created", v.CreatedUtc.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        w.WriteNumber("files", v.FileCount);
        w.WriteNumber("tensors", v.TensorCount);
        w.WriteNumber("logicalBytes", v.LogicalBytes);
        w.WriteNumber("storedBytes", v.StoredBytes);
        w.WriteNumber("manifestBytes", v.ManifestBytes);
        w.WriteNumber("ratio", Math.Round(v.Ratio, 6));
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
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

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }
}
