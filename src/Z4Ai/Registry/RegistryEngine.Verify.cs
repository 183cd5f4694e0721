using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <content>Verification: every manifest read, every object decoded and checked, every broken version named.</content>
internal sealed partial class RegistryEngine
{
    /// <summary>
    /// Checks one version, or the whole registry: manifests are parsed and validated, every object they reach is
    /// decoded (delta chains included) and compared with its SHA-256. Objects are visited parent before delta, so a
    /// chain of consecutive versions decodes each object once. Corruption is reported, never thrown.
    /// </summary>
    /// <exception cref="Z4AiRegistryException">The named version does not exist.</exception>
    public RegistryVerifyReport Verify(string? name, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var issues = new List<RegistryIssue>();
        var manifests = new List<Manifest>();
        int versionsChecked = 0;
        if (name is not null)
        {
            RegistryLayout.ThrowIfInvalidVersionName(name, nameof(name));
            if (Access.GetInfo(RegistryLayout.ManifestKey(name), ct) is null)
            {
                throw VersionNotFound(name);
            }

            versionsChecked = 1;
            try
            {
                manifests.Add(ReadManifest(name, ct));
            }
            catch (Z4AiFormatException ex)
            {
                issues.Add(new RegistryIssue($"manifest {name}", ex.Message, [name], []));
            }
        }
        else
        {
            RootRecord? root = null;
            try
            {
                root = ReadRoot(ct);
            }
            catch (Z4AiFormatException ex) when (Access.GetInfo(RegistryLayout.RootKey, ct) is not null)
            {
                issues.Add(new RegistryIssue(RegistryLayout.RootKey, ex.Message, [], []));
            }

            bool baseSeen = false;
            foreach ((string version, Manifest? manifest, Z4AiFormatException? error) in ReadAllManifests(ct))
            {
                versionsChecked++;
                baseSeen |= version == root?.Base;
                if (manifest is null)
                {
                    issues.Add(new RegistryIssue($"manifest {version}", error!.Message, [version], []));
                }
                else
                {
                    manifests.Add(manifest);
                }
            }

            if (root is not null && !baseSeen)
            {
                issues.Add(new RegistryIssue($"manifest {root.Base}", $"the base version '{root.Base}' named by {RegistryLayout.RootKey} is missing", [], []));
            }
        }

        var checker = new ChainChecker(this, progress, ct);
        foreach (Manifest manifest in manifests)
        {
            foreach (ManifestTensor tensor in manifest.AllTensors)
            {
                checker.AddUser(tensor.Object, manifest.Name, tensor.Name);
            }
        }

        checker.Run();
        issues.AddRange(checker.Issues());
        foreach (Manifest manifest in manifests)
        {
            // Lossy versions: every certificate must match the version's digests (RegistryEngine.Lossy.cs).
            issues.AddRange(VerifyCertificates(manifest, ct));
        }

        foreach (RegistryIssue issue in issues)
        {
            RegistryLog.VerifyIssue(_log, issue.Subject, issue.Problem);
        }

        List<string> broken = issues.SelectMany(i => i.Versions).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new RegistryVerifyReport(versionsChecked, checker.ObjectsChecked, checker.BytesChecked, issues, broken);
    }

    /// <summary>Walks the object graph a set of versions reaches and checks every object once, references first.</summary>
    private sealed class ChainChecker(RegistryEngine engine, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        private readonly Dictionary<Sha256Digest, List<(string Version, string Tensor)>> _users = [];
        private readonly Dictionary<Sha256Digest, ObjectTable> _tables = [];
        private readonly Dictionary<Sha256Digest, string> _problems = [];
        private readonly Dictionary<Sha256Digest, List<Sha256Digest>> _children = [];
        private readonly DecodedCache _cache = new();
        private readonly ObjectStore _objects = engine.NewObjects();
        private long _total;
        private long _done;

        public int ObjectsChecked { get; private set; }

        public long BytesChecked { get; private set; }

        public void AddUser(Sha256Digest id, string version, string tensor)
        {
            if (!_users.TryGetValue(id, out List<(string, string)>? list))
            {
                _users[id] = list = [];
            }

            list.Add((version, tensor));
        }

        public void Run()
        {
            ResolveGraph();
            _total = _tables.Values.Sum(t => t.RawLength);
            foreach (ObjectTable root in _tables.Values.Where(t => t.Kind == ObjectKind.Scratch).OrderBy(t => t.Id.ToString(), StringComparer.Ordinal))
            {
                Check(root);
            }
        }

        public IEnumerable<RegistryIssue> Issues()
        {
            // Every object the versions reach is broken by the first problem up its reference chain, if any.
            var affected = new Dictionary<Sha256Digest, List<Sha256Digest>>();
            foreach (Sha256Digest id in _users.Keys.Concat(_tables.Keys).Distinct())
            {
                if (RootCause(id) is Sha256Digest cause)
                {
                    if (!affected.TryGetValue(cause, out List<Sha256Digest>? list))
                    {
                        affected[cause] = list = [];
                    }

                    list.Add(id);
                }
            }

            foreach ((Sha256Digest cause, string problem) in _problems.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal))
            {
                List<(string Version, string Tensor)> users = affected.GetValueOrDefault(cause, [])
                    .SelectMany(id => _users.GetValueOrDefault(id, []))
                    .ToList();
                yield return new RegistryIssue(
                    $"object {cause}",
                    problem,
                    users.Select(u => u.Version).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                    users.Select(u => $"{u.Version}: {u.Tensor}").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList());
            }
        }

        private void ResolveGraph()
        {
            var queue = new Queue<Sha256Digest>(_users.Keys);
            var seen = new HashSet<Sha256Digest>(_users.Keys);
            while (queue.TryDequeue(out Sha256Digest id))
            {
                ct.ThrowIfCancellationRequested();
                ObjectTable? table;
                try
                {
                    table = _objects.TryReadTable(id, ct);
                }
                catch (Z4AiFormatException ex)
                {
                    _problems[id] = ex.Message;
                    continue;
                }

                if (table is null)
                {
                    _problems[id] = "the object is missing from the store";
                    continue;
                }

                _tables[id] = table;
                if (table.HasReference && seen.Add(table.Reference))
                {
                    queue.Enqueue(table.Reference);
                }
            }

            foreach (ObjectTable table in _tables.Values.Where(t => t.HasReference))
            {
                if (_tables.TryGetValue(table.Reference, out ObjectTable? reference)
                    && (reference.Depth != table.Depth - 1 || reference.RawLength != table.ReferenceLength))
                {
                    _problems[table.Id] = $"the object says its reference {table.Reference} has {table.ReferenceLength} bytes at depth {table.Depth - 1}, "
                        + $"but that object has {reference.RawLength} bytes at depth {reference.Depth}";
                    continue;
                }

                if (!_children.TryGetValue(table.Reference, out List<Sha256Digest>? list))
                {
                    _children[table.Reference] = list = [];
                }

                list.Add(table.Id);
            }
        }

        private void Check(ObjectTable table)
        {
            ct.ThrowIfCancellationRequested();
            if (_problems.ContainsKey(table.Id))
            {
                return;
            }

            string subject = _users.TryGetValue(table.Id, out List<(string Version, string Tensor)>? users) ? $"{users[0].Version}: {users[0].Tensor}" : $"object {table.Id}";
            bool hasChildren = _children.TryGetValue(table.Id, out List<Sha256Digest>? children);
            ObjectsChecked++;
            try
            {
                if (table.Kind == ObjectKind.Scratch && !hasChildren)
                {
                    // Nothing decodes against it: stream it through the hash in chunk-bounded memory.
                    _objects.CopyTo(table.Id, Stream.Null, subject, ct);
                }
                else
                {
                    _objects.ReadWhole(table.Id, subject, _cache, ct);
                }

                BytesChecked += table.RawLength;
            }
            catch (Z4AiException ex)
            {
                _problems[table.Id] = ex.Message;
                return;
            }
            finally
            {
                _done += table.RawLength;
                progress?.Report(new ProgressInfo("verify", subject, _done, _total));
            }

            if (hasChildren)
            {
                foreach (Sha256Digest child in children!.OrderBy(c => c.ToString(), StringComparer.Ordinal))
                {
                    Check(_tables[child]);
                }
            }
        }

        private Sha256Digest? RootCause(Sha256Digest id)
        {
            for (int step = 0; step <= ObjectFormat.MaxDepth + 1; step++)
            {
                if (_problems.ContainsKey(id))
                {
                    return id;
                }

                if (!_tables.TryGetValue(id, out ObjectTable? table) || !table.HasReference)
                {
                    return null;
                }

                id = table.Reference;
            }

            return null;
        }
    }
}
