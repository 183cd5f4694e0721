using System.Diagnostics;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <content>Garbage collection.</content>
internal sealed partial class RegistryEngine
{
    /// <summary>
    /// Deletes objects no version reaches (directly or as a delta reference) that are also older than the grace
    /// period, and stray temporary blobs older than it. Holds the registry lock exclusively, so no add runs meanwhile
    /// on a store with locks; on one without, the grace period (objects an add stores or reuses are young, because it
    /// touches reused ones) and a last age check before each delete protect concurrent writers.
    /// </summary>
    /// <exception cref="Z4AiFormatException">A manifest is damaged: what it references is unknown, so nothing is deleted.</exception>
    public RegistryGcReport Gc(TimeSpan gracePeriod, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        ReadRoot(ct);
        using IDisposable registryLock = Access.Lock(exclusive: true, Options.LockTimeout, "collect garbage", ct);
        ObjectStore objectStore = NewObjects();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        bool Young(BlobInfo blob) => now - blob.LastModifiedUtc < gracePeriod;

        var objects = new Dictionary<Sha256Digest, BlobInfo>();
        foreach (BlobInfo blob in Access.List(RegistryLayout.ObjectPrefix, ct))
        {
            if (RegistryLayout.TryParseObjectKey(blob.Key, out Sha256Digest id))
            {
                objects[id] = blob;
            }
        }

        var reachable = new HashSet<Sha256Digest>();
        var work = new Queue<Sha256Digest>();
        void Keep(Sha256Digest id)
        {
            if (reachable.Add(id))
            {
                work.Enqueue(id);
            }
        }

        foreach ((string name, Manifest? manifest, Z4AiFormatException? error) in ReadAllManifests(ct))
        {
            if (manifest is null)
            {
                throw new Z4AiFormatException(
                    Z4AiErrorKind.InvalidContainer,
                    $"garbage collection stopped before deleting anything: the manifest of '{name}' is damaged, so the objects it needs are unknown; remove that version first ({error!.Detail})",
                    error.FilePath,
                    innerException: error);
            }

            foreach (ManifestTensor tensor in manifest.AllTensors)
            {
                Keep(tensor.Object);
            }
        }

        void Drain()
        {
            while (work.TryDequeue(out Sha256Digest id))
            {
                ct.ThrowIfCancellationRequested();
                ObjectTable? table;
                try
                {
                    table = objectStore.TryReadTable(id, ct);
                }
                catch (Z4AiFormatException ex) when (ex.Kind == Z4AiErrorKind.UnsupportedVersion)
                {
                    throw new Z4AiFormatException(
                        Z4AiErrorKind.UnsupportedVersion,
                        $"garbage collection stopped before deleting anything: object {id} was written by a newer format version, so the objects it needs are unknown ({ex.Detail})",
                        ex.FilePath,
                        innerException: ex);
                }
                catch (Z4AiFormatException)
                {
                    // A damaged tail cannot be decoded with or without its references; verify reports it.
                    continue;
                }

                if (table?.HasReference == true)
                {
                    Keep(table.Reference);
                }
            }
        }

        Drain();
        int reachableFromVersions = objects.Keys.Count(reachable.Contains);
        foreach ((Sha256Digest id, BlobInfo blob) in objects)
        {
            if (Young(blob))
            {
                // Possibly stored or reused by a writer whose version is not published yet: keep it and its chain.
                Keep(id);
            }
        }

        Drain();
        int spared = objects.Keys.Count(reachable.Contains) - reachableFromVersions;
        int deleted = 0;
        long freed = 0;
        foreach ((Sha256Digest id, BlobInfo blob) in objects)
        {
            ct.ThrowIfCancellationRequested();
            if (reachable.Contains(id))
            {
                continue;
            }

            // Re-read the age right before deleting: a writer may have touched it since the listing.
            BlobInfo? current = Access.GetInfo(blob.Key, ct);
            if (current is null)
            {
                continue;
            }

            if (Young(current))
            {
                spared++;
                continue;
            }

            if (Access.Delete(blob.Key, ct))
            {
                objectStore.Forget(id);
                deleted++;
                freed += current.Length;
            }
        }

        // Certificates of lossy versions (RegistryCertificates.cs): kept while their version keeps them valid.
        var manifestsByName = new Dictionary<string, Manifest>(StringComparer.Ordinal);
        foreach ((string name, Manifest? manifest, _) in ReadAllManifests(ct))
        {
            manifestsByName[name] = manifest!;
        }

        foreach (StoredCertificateKey key in RegistryCertificates.ListAll(Access, ct))
        {
            if (manifestsByName.TryGetValue(key.Version, out Manifest? owner) && RegistryCertificates.IsValidFor(key, owner))
            {
                continue;
            }

            BlobInfo? current = Access.GetInfo(key.Key, ct);
            if (current is not null && !Young(current) && Access.Delete(key.Key, ct))
            {
                deleted++;
                freed += current.Length;
            }
        }

        int temporary = 0;
        foreach (BlobInfo blob in Access.List(RegistryLayout.TempPrefix, ct))
        {
            if (!Young(blob) && Access.Delete(blob.Key, ct))
            {
                temporary++;
            }
        }

        RegistryLog.GcDone(_log, deleted, objects.Count, freed, spared);
        return new RegistryGcReport(objects.Count, reachableFromVersions, spared, deleted, freed, temporary, clock.Elapsed);
    }
}
