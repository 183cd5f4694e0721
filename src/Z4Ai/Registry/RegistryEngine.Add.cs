using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <content>Adding versions: choosing per tensor between copy, delta against the parent or the base, and scratch.</content>
internal sealed partial class RegistryEngine
{
    /// <summary>Tensors up to this size are also encoded from scratch to compare, whatever their deltas look like.</summary>
    private const int AlwaysTryScratchBelow = 1 << 20;

    /// <summary>
    /// Creates the registry record naming <paramref name="name"/> as the base, then adds the base version. An Init
    /// that was interrupted after the record was written is resumed by calling it again with the same name.
    /// </summary>
    public RegistryAddReport Init(IReadOnlyList<SourceFile> sources, ManifestIndex? index, string name, IProgress<ProgressInfo>? progress, CancellationToken ct, ManifestText[]? texts = null)
    {
        RegistryLayout.ThrowIfInvalidVersionName(name, nameof(name));
        using IDisposable registryLock = Access.Lock(exclusive: false, Options.LockTimeout, "initialise the registry", ct);
        RootRecord? root = TryReadRoot(ct);
        if (root is null)
        {
            if (ListVersionNames(ct).Count > 0)
            {
                throw new Z4AiRegistryException(
                    Z4AiErrorKind.Conflict, $"{Access.Location} holds version manifests but no {RegistryLayout.RootKey}; refusing to initialise over them", name);
            }

            var record = new RootRecord(name, DateTimeOffset.UtcNow);
            if (!Access.PutIfAbsent(RegistryLayout.RootKey, record.Write(), ct))
            {
                root = ReadRoot(ct);
            }
        }

        if (root is not null)
        {
            if (root.Base != name)
            {
                throw new Z4AiRegistryException(
                    Z4AiErrorKind.Conflict, $"{Access.Location} is already a registry, with base '{root.Base}'", name);
            }

            if (Access.GetInfo(RegistryLayout.ManifestKey(name), ct) is not null)
            {
                throw new Z4AiRegistryException(
                    Z4AiErrorKind.Conflict, $"{Access.Location} is already a registry with base '{name}'", name);
            }
        }

        return AddLocked(sources, index, name, parentName: null, isBase: true, progress, texts, ct);
    }

    /// <summary>Adds a version against <paramref name="parentName"/> (the latest version when null).</summary>
    public RegistryAddReport Add(IReadOnlyList<SourceFile> sources, ManifestIndex? index, string name, string? parentName, IProgress<ProgressInfo>? progress, CancellationToken ct, ManifestText[]? texts = null)
    {
        RegistryLayout.ThrowIfInvalidVersionName(name, nameof(name));
        if (parentName is not null)
        {
            RegistryLayout.ThrowIfInvalidVersionName(parentName, nameof(parentName));
        }

        ReadRoot(ct);
        using IDisposable registryLock = Access.Lock(exclusive: false, Options.LockTimeout, $"add version '{name}'", ct);
        return AddLocked(sources, index, name, parentName, isBase: false, progress, texts, ct);
    }

    private static string DescribeShape(ManifestTensor t) => $"{t.DType.GetName()}[{string.Join(",", t.Shape)}]";

    private RegistryAddReport AddLocked(
        IReadOnlyList<SourceFile> sources, ManifestIndex? index, string name, string? parentName, bool isBase, IProgress<ProgressInfo>? progress, ManifestText[]? texts, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        RootRecord root = ReadRoot(ct);
        string manifestKey = RegistryLayout.ManifestKey(name);
        if (Access.GetInfo(manifestKey, ct) is not null)
        {
            throw NameTaken(name);
        }

        Manifest? parent = null;
        Manifest? baseManifest = null;
        if (!isBase)
        {
            parent = parentName is null ? Latest(ct) : ReadManifest(parentName, ct);
            if (parent.Name == root.Base)
            {
                baseManifest = parent;
            }
            else
            {
                try
                {
                    baseManifest = TryReadManifest(root.Base, ct);
                }
                catch (Z4AiFormatException ex)
                {
                    RegistryLog.DamagedManifest(_log, root.Base, ex.Message);
                }
            }
        }

        ObjectStore objects = NewObjects();
        long total = sources.Sum(s => s.DataBytes);
        long done = 0;
        var files = new List<ManifestFile>(sources.Count);
        var reports = new List<RegistryTensorReport>();
        foreach (SourceFile source in sources)
        {
            using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            fileHash.AppendData(source.Header);
            var tensors = new List<ManifestTensor>(source.Tensors.Count);
            foreach (TensorInfo info in source.Tensors)
            {
                ct.ThrowIfCancellationRequested();
                var context = new TensorContext(name, source, info, !source.IsExposed(info.Name), parent, baseManifest, fileHash, objects);
                (ManifestTensor tensor, string? note) = info.ByteLength > Options.MaxDeltaTensorBytes ? StoreLarge(context, ct) : StoreInMemory(context, ct);
                tensors.Add(tensor);
                reports.Add(new RegistryTensorReport(
                    tensor.Name, source.StoredName, tensor.DType, tensor.Shape, tensor.Length, tensor.StoredBytes, tensor.Storage, tensor.Depth,
                    tensor.Sha256.ToString(), tensor.Reference?.ToString(), note));
                RegistryLog.TensorStored(_log, name, tensor.Name, tensor.Storage, tensor.StoredBytes, tensor.Length, tensor.Depth);
                done += info.ByteLength;
                progress?.Report(new ProgressInfo(isBase ? "init" : "add", info.Name, done, total));
            }

            files.Add(new ManifestFile(source.StoredName, source.Header, new Sha256Digest(fileHash.GetHashAndReset()), [.. tensors], source.File.Metadata));
        }

        var manifest = new Manifest(name, parent?.Name, root.Base, DateTimeOffset.UtcNow, Manifest.LosslessTier, index, [.. files]) { Texts = texts ?? [] };
        byte[] bytes = ManifestJson.Write(manifest);

        // Never publish what could not be read back: the same validation every reader applies.
        ManifestJson.Parse(bytes, name, Access.Describe(manifestKey));
        if (!Access.PutIfAbsent(manifestKey, bytes, ct))
        {
            throw NameTaken(name);
        }

        long stored = reports.Sum(r => r.StoredBytes);
        RegistryLog.VersionAdded(_log, name, parent?.Name ?? "(none)", reports.Count, manifest.LogicalBytes, stored);
        return new RegistryAddReport(name, parent?.Name, root.Base, reports, manifest.LogicalBytes, stored, bytes.Length, clock.Elapsed);
    }

    private static Z4AiRegistryException NameTaken(string name) =>
        new(Z4AiErrorKind.Conflict, $"a version named '{name}' already exists (perhaps added by a concurrent writer); choose another name", name);

    private (ManifestTensor Tensor, string? Note) StoreInMemory(TensorContext c, CancellationToken ct)
    {
        byte[] raw = c.Source.File.ReadTensor(c.Info.Name);
        c.FileHash.AppendData(raw);
        Sha256Digest id = Sha256Digest.Compute(raw);
        ObjectTable? existing = TryExisting(c.Objects, id, ct);
        if (existing is not null)
        {
            return (Reuse(c, id, existing, ct), null);
        }

        var notes = new List<string>();
        List<Candidate> candidates = FindCandidates(c, notes, ct);
        var cache = new DecodedCache();
        var usable = new List<(Candidate Candidate, byte[] Reference)>(candidates.Count);

        // Shallower references first: the deeper one's chain often runs through it, and the cache then saves a decode.
        foreach (Candidate candidate in candidates.OrderBy(x => x.Table.Depth))
        {
            try
            {
                usable.Add((candidate, c.Objects.ReadWhole(candidate.Table.Id, $"{candidate.Role} '{c.Info.Name}'", cache, ct)));
            }
            catch (Z4AiException ex)
            {
                Skip(c, notes, candidate.Role, $"its object cannot be read ({ex.Message})");
            }
        }

        if (usable.Count > 1 && Options.Effort != CompressionEffort.Max)
        {
            // Coding a delta costs several codec passes; the entropy preview picks the reference worth coding.
            long[] estimates = usable.Select(u => DeltaPreview.EstimateBits(raw, u.Reference, c.Info.DType)).ToArray();
            int keep = estimates[0] <= estimates[1] ? 0 : 1;
            usable = [usable[keep]];
        }

        var deltas = new EncodedObject?[usable.Count];
        try
        {
            void EncodeOne(int i) => deltas[i] = ObjectStore.EncodeDelta(
                raw, usable[i].Reference, usable[i].Candidate.Table, c.Info.DType, id, Options.DeltaChunkSize, Options.Effort);
            if (usable.Count > 1 && Options.MaxDegreeOfParallelism > 1)
            {
                try
                {
                    Parallel.For(0, usable.Count, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism, CancellationToken = ct }, EncodeOne);
                }
                catch (AggregateException ex)
                {
                    ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
                }
            }
            else
            {
                for (int i = 0; i < usable.Count; i++)
                {
                    EncodeOne(i);
                }
            }

            cache.Clear();
            int best = -1;
            for (int i = 0; i < deltas.Length; i++)
            {
                if (best < 0 || deltas[i]!.Length < deltas[best]!.Length
                    || (deltas[i]!.Length == deltas[best]!.Length && deltas[i]!.Table.Depth < deltas[best]!.Table.Depth))
                {
                    best = i;
                }
            }

            // A delta chunk is only kept when it beats that chunk's scratch frame, so a delta without Scratch chunks
            // is smaller than the tensor from scratch but for a few bytes of framing; encoding scratch as well is
            // worth it only when some chunk gained nothing, or the tensor is small enough that framing matters.
            bool tryScratch = best < 0 || raw.Length <= AlwaysTryScratchBelow
                || BufferDelta.Inspect(deltas[best]!.SinglePayload).CountChunks(DeltaChunkMode.Scratch) > 0;
            EncodedObject? scratch = tryScratch
                ? ObjectStore.EncodeScratch(raw, c.Info.DType, id, Options.ChunkSize, Options.Effort, Options.MaxDegreeOfParallelism)
                : null;
            try
            {
                EncodedObject chosen;
                TensorStorage storage;
                if (scratch is not null && (best < 0 || scratch.Length <= deltas[best]!.Length))
                {
                    chosen = scratch;
                    storage = TensorStorage.Scratch;
                }
                else
                {
                    chosen = deltas[best]!;
                    storage = usable[best].Candidate.Role == "parent" ? TensorStorage.DeltaFromParent : TensorStorage.DeltaFromBase;
                }

                if (!c.Objects.Put(chosen, ct))
                {
                    // A concurrent writer stored the same bytes first: use its object.
                    ObjectTable theirs = c.Objects.ReadTable(id, c.Info.Name, ct);
                    return (Reuse(c, id, theirs, ct), null);
                }

                ObjectTable t = chosen.Table;
                return (new ManifestTensor(
                    c.Info.Name, c.Info.DType, c.Info.Shape.ToArray(), c.Info.ByteLength, id, id, storage,
                    t.Kind == ObjectKind.Delta ? t.Reference : null, t.Depth, chosen.Length, c.Hidden),
                    storage == TensorStorage.Scratch ? Note(notes) : null);
            }
            finally
            {
                scratch?.Dispose();
            }
        }
        finally
        {
            foreach (EncodedObject? delta in deltas)
            {
                delta?.Dispose();
            }
        }
    }

    /// <summary>A tensor too large to hold with a reference: hashed in one pass, stored from scratch in a second.</summary>
    private (ManifestTensor Tensor, string? Note) StoreLarge(TensorContext c, CancellationToken ct)
    {
        Sha256Digest id;
        using (var hashing = new HashingStream(Stream.Null))
        {
            c.Source.File.CopyTensorTo(c.Info.Name, hashing, ct);
            byte[] digest = hashing.GetHashAndReset();
            id = new Sha256Digest(digest);
        }

        // The file hash needs these bytes too; a second pass keeps memory bounded by a chunk.
        using (var fileHashing = new IncrementalHashWriter(c.FileHash))
        {
            c.Source.File.CopyTensorTo(c.Info.Name, fileHashing, ct);
        }

        ObjectTable? existing = TryExisting(c.Objects, id, ct);
        if (existing is not null)
        {
            return (Reuse(c, id, existing, ct), null);
        }

        using var source = new TensorRangeStream(c.Source.File, c.Info.Name, c.Info.ByteLength);
        bool created = c.Objects.PutScratchStreaming(source, c.Info.ByteLength, c.Info.DType, id, Options.ChunkSize, Options.Effort, ct);
        ObjectTable table = c.Objects.ReadTable(id, c.Info.Name, ct);
        if (!created)
        {
            return (Reuse(c, id, table, ct), null);
        }

        string note = $"{c.Info.ByteLength} bytes is above the delta limit of {Options.MaxDeltaTensorBytes}; stored from scratch";
        return (new ManifestTensor(
            c.Info.Name, c.Info.DType, c.Info.Shape.ToArray(), c.Info.ByteLength, id, id, TensorStorage.Scratch, null, 0, table.ObjectLength, c.Hidden), note);
    }

    /// <summary>
    /// Looks for an existing object with this id. One whose tail is damaged cannot be reused and, being immutable,
    /// cannot be overwritten: it is deleted so the tensor is stored afresh, which also repairs every version that
    /// referenced it.
    /// </summary>
    private ObjectTable? TryExisting(ObjectStore objects, Sha256Digest id, CancellationToken ct)
    {
        try
        {
            return objects.TryReadTable(id, ct);
        }
        catch (Z4AiFormatException ex) when (ex.Kind != Z4AiErrorKind.UnsupportedVersion)
        {
            // (An object of a newer format is not damaged: it is left alone and the add fails.)
            RegistryLog.DamagedObjectReplaced(_log, id.ToString(), ex.Message);
            Access.Delete(RegistryLayout.ObjectKey(id), ct);
            objects.Forget(id);
            return null;
        }
    }

    /// <summary>
    /// Records a tensor whose bytes are already stored. The object is touched so that a concurrent garbage
    /// collection (which spares young objects) cannot remove it before this version's manifest is published.
    /// </summary>
    private ManifestTensor Reuse(TensorContext c, Sha256Digest id, ObjectTable existing, CancellationToken ct)
    {
        try
        {
            Access.Touch(RegistryLayout.ObjectKey(id), ct);
        }
        catch (KeyNotFoundException)
        {
            throw new Z4AiRegistryException(
                Z4AiErrorKind.Conflict, $"object {id} vanished while version '{c.Version}' was reusing it (a garbage collection without the registry lock?); add the version again", c.Version);
        }

        return new ManifestTensor(
            c.Info.Name, c.Info.DType, c.Info.Shape.ToArray(), c.Info.ByteLength, id, id, TensorStorage.Copy, null, existing.Depth, 0, c.Hidden);
    }

    private List<Candidate> FindCandidates(TensorContext c, List<string> notes, CancellationToken ct)
    {
        var candidates = new List<Candidate>(2);
        foreach ((string role, Manifest? manifest) in new[] { ("parent", c.Parent), ("base", c.Base) })
        {
            if (manifest is null)
            {
                continue;
            }

            ManifestTensor? counterpart = manifest.FindCounterpart(c.Source.StoredName, c.Info.Name, c.Hidden);
            if (counterpart is null)
            {
                Skip(c, notes, role, $"'{manifest.Name}' has no tensor of this name");
                continue;
            }

            if (counterpart.DType != c.Info.DType)
            {
                Skip(c, notes, role, $"it is {DescribeShape(counterpart)} in '{manifest.Name}', another dtype");
                continue;
            }

            if (counterpart.Length > Options.MaxDeltaTensorBytes)
            {
                Skip(c, notes, role, $"its reference is above the delta limit of {Options.MaxDeltaTensorBytes} bytes");
                continue;
            }

            if (candidates.Any(x => x.Table.Id == counterpart.Object))
            {
                continue;
            }

            ObjectTable? table;
            try
            {
                table = c.Objects.TryReadTable(counterpart.Object, ct);
            }
            catch (Z4AiFormatException ex)
            {
                Skip(c, notes, role, $"its object is damaged ({ex.Message})");
                continue;
            }

            if (table is null)
            {
                Skip(c, notes, role, $"its object {counterpart.Object} is missing");
                continue;
            }

            if (table.Depth + 1 > Options.MaxChainDepth)
            {
                Skip(c, notes, role, $"its object is at the chain depth bound ({Options.MaxChainDepth})");
                continue;
            }

            if (counterpart.Length != c.Info.ByteLength || !counterpart.Shape.AsSpan().SequenceEqual(c.Info.Shape.ToArray()))
            {
                notes.Add($"shape differs from {role} ({DescribeShape(counterpart)})");
            }

            candidates.Add(new Candidate(role, table));
        }

        return candidates;
    }

    private void Skip(TensorContext c, List<string> notes, string role, string reason)
    {
        notes.Add($"no delta against {role}: {reason}");
        RegistryLog.CandidateSkipped(_log, c.Version, c.Info.Name, role, reason);
    }

    private static string? Note(List<string> notes) => notes.Count == 0 ? null : string.Join("; ", notes);

    private sealed record Candidate(string Role, ObjectTable Table);

    private sealed record TensorContext(
        string Version, SourceFile Source, TensorInfo Info, bool Hidden, Manifest? Parent, Manifest? Base, IncrementalHash FileHash, ObjectStore Objects);
}
