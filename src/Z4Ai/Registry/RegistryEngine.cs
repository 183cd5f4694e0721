using Microsoft.Extensions.Logging;

namespace Z4Ai.Registry;

/// <summary>
/// The machinery behind <see cref="ModelRegistry"/>: versions, lineage, content-addressed objects, verification and
/// garbage collection over an <see cref="IBlobStore"/>. docs/registry-format.md describes the layout and the
/// protocols (why a killed writer never leaves a half-added version, and why gc never removes what a version needs).
/// </summary>
internal sealed partial class RegistryEngine
{
    private readonly ILogger _log;

    public RegistryEngine(IBlobStore store, RegistryOptions options)
    {
        Access = new StoreAccess(store);
        Options = options;
        _log = options.Logger;
    }

    public StoreAccess Access { get; }

    /// <summary>
    /// A fresh object view for one operation. Its cache of object tails lives only as long as the operation, so each
    /// operation (verify above all) sees what the store holds now.
    /// </summary>
    public ObjectStore NewObjects() => new(Access);

    public RegistryOptions Options { get; }

    /// <summary>Reads the registry record.</summary>
    /// <exception cref="Z4AiFormatException">The store is not a registry, or the record is damaged.</exception>
    public RootRecord ReadRoot(CancellationToken ct = default) => TryReadRoot(ct) ?? throw new Z4AiFormatException(
        Z4AiErrorKind.InvalidContainer,
        $"not a Z4Ai registry: there is no {RegistryLayout.RootKey} (create one with init)",
        Access.Describe(RegistryLayout.RootKey));

    public RootRecord? TryReadRoot(CancellationToken ct = default)
    {
        byte[]? data = Access.TryReadAll(RegistryLayout.RootKey, RootRecord.MaxLength, ct);
        return data is null ? null : RootRecord.Parse(data, Access.Describe(RegistryLayout.RootKey));
    }

    /// <summary>Reads a version's manifest, or returns null when there is none.</summary>
    /// <exception cref="Z4AiFormatException">The manifest exists but is damaged.</exception>
    public Manifest? TryReadManifest(string name, CancellationToken ct = default)
    {
        string key = RegistryLayout.ManifestKey(name);
        byte[]? data = Access.TryReadAll(key, ManifestJson.MaxManifestLength, ct);
        return data is null ? null : ManifestJson.Parse(data, name, Access.Describe(key));
    }

    /// <summary>Reads a version's manifest.</summary>
    /// <exception cref="Z4AiRegistryException">No such version (<see cref="Z4AiErrorKind.VersionNotFound"/>).</exception>
    public Manifest ReadManifest(string name, CancellationToken ct = default)
    {
        RegistryLayout.ThrowIfInvalidVersionName(name, nameof(name));
        return TryReadManifest(name, ct) ?? throw VersionNotFound(name);
    }

    /// <summary>The names of every version in the store, sorted ordinally.</summary>
    public List<string> ListVersionNames(CancellationToken ct = default)
    {
        var names = new List<string>();
        foreach (BlobInfo blob in Access.List(RegistryLayout.ManifestPrefix, ct))
        {
            if (RegistryLayout.TryParseManifestKey(blob.Key, out string name))
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Reads every manifest; a damaged one is returned with its error instead of a manifest.</summary>
    public List<(string Name, Manifest? Manifest, Z4AiFormatException? Error)> ReadAllManifests(CancellationToken ct = default)
    {
        var result = new List<(string, Manifest?, Z4AiFormatException?)>();
        foreach (string name in ListVersionNames(ct))
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                Manifest? manifest = TryReadManifest(name, ct);
                if (manifest is not null)
                {
                    result.Add((name, manifest, null));
                }
            }
            catch (Z4AiFormatException ex)
            {
                RegistryLog.DamagedManifest(_log, name, ex.Message);
                result.Add((name, null, ex));
            }
        }

        return result;
    }

    public List<RegistryVersion> List(CancellationToken ct = default)
    {
        ReadRoot(ct);
        var versions = new List<RegistryVersion>();
        foreach ((string name, Manifest? manifest, Z4AiFormatException? error) in ReadAllManifests(ct))
        {
            versions.Add(manifest is null ? Damaged(name, error!) : DescribeWithCertificate(manifest, ct));
        }

        versions.Sort(static (a, b) =>
        {
            int c = a.CreatedUtc.CompareTo(b.CreatedUtc);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
        return versions;
    }

    /// <summary>The lineage from <paramref name="name"/> back to the base, newest first.</summary>
    /// <remarks>It stops early at a parent that was removed (the last entry's <see cref="RegistryVersion.Parent"/>
    /// then names a version that no longer exists) or whose manifest is damaged (a damaged entry ends the list).</remarks>
    public List<RegistryVersion> Log(string name, CancellationToken ct = default)
    {
        Manifest manifest = ReadManifest(name, ct);
        var lineage = new List<RegistryVersion>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            lineage.Add(DescribeWithCertificate(manifest, ct));
            seen.Add(manifest.Name);
            string? parentName = manifest.Parent;
            if (parentName is null || seen.Contains(parentName))
            {
                return lineage;
            }

            try
            {
                Manifest? parent = TryReadManifest(parentName, ct);
                if (parent is null)
                {
                    return lineage;
                }

                manifest = parent;
            }
            catch (Z4AiFormatException ex)
            {
                lineage.Add(Damaged(parentName, ex));
                return lineage;
            }
        }
    }

    /// <summary>
    /// Removes a version's manifest. Its objects stay until <see cref="Gc"/> finds them unreachable, and versions
    /// whose deltas reference them keep them reachable, so no other version is ever damaged.
    /// </summary>
    public void Remove(string name, bool force, CancellationToken ct = default)
    {
        RegistryLayout.ThrowIfInvalidVersionName(name, nameof(name));
        RootRecord root = ReadRoot(ct);
        string key = RegistryLayout.ManifestKey(name);
        if (Access.GetInfo(key, ct) is null)
        {
            throw VersionNotFound(name);
        }

        if (name == root.Base)
        {
            throw new Z4AiRegistryException(
                Z4AiErrorKind.Conflict,
                $"'{name}' is the base of the family and cannot be removed (delete the whole registry to drop the family)",
                name);
        }

        List<string> children = ReadAllManifests(ct)
            .Where(m => m.Manifest?.Parent == name)
            .Select(m => m.Name)
            .ToList();
        if (children.Count > 0 && !force)
        {
            throw new Z4AiRegistryException(
                Z4AiErrorKind.Conflict,
                $"version{(children.Count == 1 ? string.Empty : "s")} {string.Join(", ", children)} name{(children.Count == 1 ? "s" : string.Empty)} '{name}' as parent; "
                + "remove with force to keep them (their data stays intact; their lineage then ends at the removed name)",
                name);
        }

        Access.Delete(key, ct);
        RegistryLog.VersionRemoved(_log, name);
    }

    public static RegistryVersion Describe(Manifest m) => new(
        m.Name,
        m.Parent,
        m.Base,
        m.Created,
        m.Tier,
        m.Files.Length,
        m.ExposedTensors.Count(),
        m.LogicalBytes,
        m.StoredBytes,
        m.ManifestBytes,
        Damage: null);

    internal static Z4AiRegistryException VersionNotFound(string name) =>
        new(Z4AiErrorKind.VersionNotFound, $"there is no version '{name}' in the registry", name);

    private static RegistryVersion Damaged(string name, Z4AiFormatException error) =>
        new(name, null, string.Empty, DateTimeOffset.MinValue, string.Empty, 0, 0, 0, 0, 0, error.Message);

    /// <summary>The most recently created readable version, the default parent of a new one.</summary>
    private Manifest Latest(CancellationToken ct)
    {
        Manifest? latest = null;
        foreach ((_, Manifest? manifest, _) in ReadAllManifests(ct))
        {
            if (manifest is not null && (latest is null || manifest.Created > latest.Created
                || (manifest.Created == latest.Created && string.CompareOrdinal(manifest.Name, latest.Name) > 0)))
            {
                latest = manifest;
            }
        }

        return latest ?? throw new Z4AiFormatException(
            Z4AiErrorKind.InvalidContainer, "the registry has no readable version to add to (its base is missing or damaged)", Access.Location);
    }
}
