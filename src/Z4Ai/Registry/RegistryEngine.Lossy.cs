using System.Diagnostics;
using System.Security.Cryptography;
using CommunityToolkit.HighPerformance.Buffers;
using Z4Ai.Certification;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Registry;

/// <content>
/// Lossy versions (docs/registry-format.md, sections 3.3 and 6): each tensor is a lossy-tier record against the
/// parent's tensor (small and unsupported tensors stay lossless), published only with a passing certificate unless
/// forced. Nothing is written to the store before the certificate is decided: the first pass encodes into a local
/// spool file and writes the reconstruction for the evaluator, the second stores objects, certificate and manifest.
/// </content>
internal sealed partial class RegistryEngine
{
    /// <summary>Adds a lossy version of the single-file model <paramref name="source"/> against <paramref name="parentName"/>.</summary>
    public RegistryAddReport AddLossy(
        SourceFile source, string targetPath, string name, string? parentName, RegistryLossyOptions options, IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        RegistryLayout.ThrowIfInvalidVersionName(name, nameof(name));
        if (parentName is not null)
        {
            RegistryLayout.ThrowIfInvalidVersionName(parentName, nameof(parentName));
        }

        LossyOptions lossy = options.Lossy ?? throw new ArgumentException("the lossy options are missing", nameof(options));
        if (lossy.Tier == LossyTier.Lossless)
        {
            throw new ArgumentException("a lossy version needs a lossy tier (int8, int4, sparse or 1bit); add lossless versions with Add(path)", nameof(options));
        }

        CertificationCriteria criteria = options.Criteria ?? CertificationCriteria.Default;
        criteria.Validate();
        if (options.Task is null && !options.Force)
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificationRequired,
                $"version '{name}' would be stored in the lossy tier {lossy.Tier.GetName()} without a certificate: give a certification task, or force it");
        }

        var clock = Stopwatch.StartNew();
        RootRecord root = ReadRoot(ct);
        using IDisposable registryLock = Access.Lock(exclusive: false, Options.LockTimeout, $"add lossy version '{name}'", ct);
        string manifestKey = RegistryLayout.ManifestKey(name);
        if (Access.GetInfo(manifestKey, ct) is not null)
        {
            throw NameTaken(name);
        }

        Manifest parent = parentName is null ? Latest(ct) : ReadManifest(parentName, ct);
        Manifest? baseManifest = parent.Name == root.Base ? parent : TryReadManifest(root.Base, ct);
        var settings = LossyPlan.Settings(lossy);
        string work = Path.Combine(Path.GetTempPath(), $"z4ai-registry-lossy-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            ObjectStore objects = NewObjects();
            string reconstructedPath = Path.Combine(work, "reconstructed.safetensors");
            using var spool = new FileStream(Path.Combine(work, "records.spool"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            List<LossyPlan> plans;
            Sha256Digest fileSha;
            using (var reconstructed = new FileStream(reconstructedPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var hashing = new HashingStream(reconstructed))
            {
                hashing.Write(source.Header);
                plans = EncodeLossy(source, parent, lossy, settings, objects, spool, hashing, progress, ct);
                fileSha = new Sha256Digest(hashing.GetHashAndReset());
            }

            Sha256Digest baseModel = ModelIdentity(parent.ExposedTensors.Select(t => (t.Name, t.DType, t.Shape, t.Length, t.Sha256)));
            Sha256Digest targetModel = ModelIdentity(plans.Select(p => (p.Info.Name, p.Info.DType, p.Info.Shape.ToArray(), p.Info.ByteLength, p.Target)));
            Sha256Digest reconstructedModel = ModelIdentity(plans.Select(p => (p.Info.Name, p.Info.DType, p.Info.Shape.ToArray(), p.Info.ByteLength, p.Reconstructed)));
            var lossyRecord = new ManifestLossy(parent.Name, new LossyTierSettings(settings.Tier, settings.GroupSize, settings.OutlierPpm, settings.SparsePpm, settings.DropAndRescale, settings.RefineScales, settings.Seed, settings.MinElements), baseModel, targetModel, reconstructedModel, options.Force);

            CertificateEvaluation? evaluation = null;
            bool passed = false;
            if (options.Task is not null)
            {
                string? basePath = null;
                if (options.EvaluateBase)
                {
                    basePath = Path.Combine(work, "reference.safetensors");
                    Get(parent.Name, basePath, progress: null, ct);
                }

                evaluation = EvaluateModels(options.Task, targetPath, reconstructedPath, basePath, criteria, work, ct);
                passed = Certifier.Passes(evaluation, criteria);
                if (!passed && !options.Force)
                {
                    throw new Z4AiCertificationException(
                        Z4AiErrorKind.CertificationRequired,
                        $"version '{name}' was not stored: its {lossy.Tier.GetName()} certificate on '{evaluation.Task}' did not pass ({Certifier.FailureReason(evaluation, criteria)}); "
                        + "choose a gentler tier, or force it");
                }
            }

            // The certificate is decided: from here on the store is written.
            var tensors = new List<ManifestTensor>(plans.Count);
            var reports = new List<RegistryTensorReport>(plans.Count);
            using var ignoredHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (LossyPlan plan in plans)
            {
                ct.ThrowIfCancellationRequested();
                ManifestTensor tensor = StoreLossyTensor(plan, name, source, parent, baseManifest, objects, spool, ignoredHash, ct);
                tensors.Add(tensor);
                reports.Add(new RegistryTensorReport(
                    tensor.Name, source.StoredName, tensor.DType, tensor.Shape, tensor.Length, tensor.StoredBytes, tensor.Storage, tensor.Depth,
                    tensor.Sha256.ToString(), tensor.Reference?.ToString(), plan.Mode == LossyTier.Lossless ? plan.Note : plan.Mode.GetName()));
                RegistryLog.TensorStored(_log, name, tensor.Name, tensor.Storage, tensor.StoredBytes, tensor.Length, tensor.Depth);
            }

            var file = new ManifestFile(source.StoredName, source.Header, fileSha, [.. tensors], source.File.Metadata);
            DateTimeOffset created = DateTimeOffset.UtcNow;
            FidelityCertificate? certificate = null;
            ManifestCertificate? pinned = null;
            if (evaluation is not null)
            {
                var draft = new Manifest(name, parent.Name, root.Base, created, lossy.Tier.GetName(), null, [file]) { Lossy = lossyRecord };
                certificate = BuildCertificate(draft, evaluation, criteria, passed);
                pinned = new ManifestCertificate(Sha256Digest.Parse(certificate.ComputeSha256()), certificate.Passed);
                RegistryCertificates.Put(Access, name, created, certificate, ct);
            }

            var manifest = new Manifest(name, parent.Name, root.Base, created, lossy.Tier.GetName(), null, [file])
            {
                Lossy = lossyRecord,
                Certificate = pinned,
            };
            byte[] bytes = ManifestJson.Write(manifest);
            ManifestJson.Parse(bytes, name, Access.Describe(manifestKey));
            if (!Access.PutIfAbsent(manifestKey, bytes, ct))
            {
                throw NameTaken(name);
            }

            long stored = reports.Sum(r => r.StoredBytes);
            RegistryLog.VersionAdded(_log, name, parent.Name, reports.Count, manifest.LogicalBytes, stored);
            return new RegistryAddReport(name, parent.Name, root.Base, reports, manifest.LogicalBytes, stored, bytes.Length, clock.Elapsed)
            {
                Tier = manifest.Tier,
                Certificate = certificate,
            };
        }
        finally
        {
            DeleteWork(work);
        }
    }

    /// <summary>
    /// Certifies an existing lossy version anew: the target (which must be the model the version was made from) and
    /// the version as stored are evaluated with <paramref name="task"/>, and the certificate is stored as the
    /// version's current one, whether it passed or not.
    /// </summary>
    public FidelityCertificate Certify(string name, string targetPath, ICertificationTask task, CertificationCriteria criteria, bool evaluateBase, CancellationToken ct)
    {
        criteria.Validate();
        Manifest manifest = ReadManifest(name, ct);
        if (manifest.Lossy is null)
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificationRequired, $"version '{name}' is lossless: it restores every byte and needs no certificate");
        }

        string identity = Certifier.ModelIdentity(targetPath);
        if (identity != manifest.Lossy.TargetModel.ToString())
        {
            throw new Z4AiCertificationException(
                Z4AiErrorKind.CertificateMismatch,
                $"{targetPath} is not the model version '{name}' was made from: its identity is {identity}, the version's target is {manifest.Lossy.TargetModel}");
        }

        using IDisposable registryLock = Access.Lock(exclusive: false, Options.LockTimeout, $"certify version '{name}'", ct);
        string work = Path.Combine(Path.GetTempPath(), $"z4ai-registry-certify-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string reconstructed = Path.Combine(work, "reconstructed.safetensors");
            Get(name, reconstructed, progress: null, ct);
            string? basePath = null;
            if (evaluateBase && TryReadManifest(manifest.Lossy.Reference, ct) is not null)
            {
                basePath = Path.Combine(work, "reference.safetensors");
                Get(manifest.Lossy.Reference, basePath, progress: null, ct);
            }

            CertificateEvaluation evaluation = EvaluateModels(task, targetPath, reconstructed, basePath, criteria, work, ct);
            FidelityCertificate certificate = BuildCertificate(manifest, evaluation, criteria, Certifier.Passes(evaluation, criteria));
            DateTimeOffset at = DateTimeOffset.UtcNow;
            if (at <= manifest.Created)
            {
                at = manifest.Created.AddTicks(1);
            }

            RegistryCertificates.Put(Access, name, at, certificate, ct);
            return certificate;
        }
        finally
        {
            DeleteWork(work);
        }
    }

    /// <summary>The current certificate of a version, or null (lossless, or forced without one).</summary>
    public FidelityCertificate? GetCertificate(string name, CancellationToken ct)
    {
        Manifest manifest = ReadManifest(name, ct);
        return manifest.Lossy is null ? null : RegistryCertificates.Current(Access, manifest, ct)?.Certificate;
    }

    /// <summary>Describes a version with its certificate state (reads the version's certificates when it is lossy).</summary>
    public RegistryVersion DescribeWithCertificate(Manifest m, CancellationToken ct = default)
    {
        RegistryVersion v = Describe(m);
        if (m.Lossy is null)
        {
            return v;
        }

        StoredCertificate? current;
        try
        {
            current = RegistryCertificates.Current(Access, m, ct);
        }
        catch (Z4AiException)
        {
            // A damaged certificate shows as failed; verify names the problem.
            return v with { Certificate = RegistryCertificateStatus.Failed };
        }

        return current is null
            ? v with { Certificate = RegistryCertificateStatus.Forced }
            : v with
            {
                Certificate = current.Certificate.Passed ? RegistryCertificateStatus.Passed : RegistryCertificateStatus.Failed,
                CertificateSha256 = current.Sha256.ToString(),
            };
    }

    /// <summary>Checks every certificate of a lossy version against the manifest and stored objects' digests.</summary>
    public IEnumerable<RegistryIssue> VerifyCertificates(Manifest manifest, CancellationToken ct)
    {
        if (manifest.Lossy is null)
        {
            yield break;
        }

        var issues = new List<RegistryIssue>();
        List<StoredCertificateKey> keys = RegistryCertificates.ListValid(Access, manifest, ct);
        if (manifest.Certificate is { } pin && !keys.Any(k => k.Sha256 == pin.Sha256))
        {
            issues.Add(new RegistryIssue(
                $"certificate {pin.Sha256}", $"the certificate version '{manifest.Name}' was published with is missing from the store", [manifest.Name], []));
        }

        foreach (StoredCertificateKey key in keys)
        {
            string subject = $"certificate {key.Sha256}";
            FidelityCertificate certificate;
            try
            {
                certificate = RegistryCertificates.Read(Access, key, ct);
            }
            catch (Z4AiException ex)
            {
                issues.Add(new RegistryIssue(subject, ex.Message, [manifest.Name], []));
                continue;
            }

            List<string> problems = CheckBinding(certificate, manifest, ct);
            if (manifest.Certificate is { } pinned && pinned.Sha256 == key.Sha256 && pinned.Passed != certificate.Passed)
            {
                problems.Add($"the manifest records passed = {pinned.Passed}, the certificate says {certificate.Passed}");
            }

            foreach (string problem in problems)
            {
                issues.Add(new RegistryIssue(subject, $"does not match version '{manifest.Name}': {problem}", [manifest.Name], []));
            }
        }

        foreach (RegistryIssue issue in issues)
        {
            yield return issue;
        }
    }

    /// <summary>Binding by hashes, and internal consistency, of a certificate and a lossy version's manifest.</summary>
    public List<string> CheckBinding(FidelityCertificate certificate, Manifest manifest, CancellationToken ct)
    {
        ManifestLossy lossy = manifest.Lossy!;
        var problems = new List<string>();
        void Expect(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }

        (Sha256Digest listing, long length) = RegistryCertificates.Listing(manifest);
        ManifestTensor[] tensors = [.. manifest.AllTensors];
        Sha256Digest reconstructed = ModelIdentity(tensors.Select(t => (t.Name, t.DType, t.Shape, t.Length, t.Sha256)));
        Sha256Digest target = ModelIdentity(tensors.Select(t => (t.Name, t.DType, t.Shape, t.Length, t.Lossy?.Target ?? t.Sha256)));
        Expect(reconstructed == lossy.ReconstructedModel, $"the manifest names reconstruction {lossy.ReconstructedModel}, its tensors make {reconstructed}");
        Expect(target == lossy.TargetModel, $"the manifest names target {lossy.TargetModel}, its tensors' targets make {target}");
        try
        {
            if (TryReadManifest(lossy.Reference, ct) is { } reference)
            {
                Sha256Digest baseModel = ModelIdentity(reference.ExposedTensors.Select(t => (t.Name, t.DType, t.Shape, t.Length, t.Sha256)));
                Expect(baseModel == lossy.BaseModel, $"the reference version '{lossy.Reference}' is {baseModel}, the manifest names {lossy.BaseModel}");
            }
        }
        catch (Z4AiFormatException)
        {
            // A damaged reference manifest is reported as such by the manifest check.
        }

        Expect(certificate.DeltaBinding == FidelityCertificate.RegistryBinding, $"the certificate is bound to '{certificate.DeltaBinding ?? "a .z4al file"}', not to a registry version");
        Expect(certificate.DeltaSha256 == listing.ToString(), $"the version's tensor listing is {listing}, the certificate names {certificate.DeltaSha256}");
        Expect(certificate.DeltaLength == length, $"the listing is {length} bytes, the certificate says {certificate.DeltaLength}");
        Expect(certificate.DeltaFormatVersion == RegistryCertificates.ListingVersion, $"listing version {certificate.DeltaFormatVersion}, expected {RegistryCertificates.ListingVersion}");
        Expect(certificate.BaseSha256 == lossy.BaseModel.ToString(), $"the version's reference is {lossy.BaseModel}, the certificate names {certificate.BaseSha256}");
        Expect(certificate.TargetSha256 == target.ToString(), $"the version's target is {target}, the certificate names {certificate.TargetSha256}");
        Expect(certificate.ReconstructedSha256 == reconstructed.ToString(), $"the version reconstructs {reconstructed}, the certificate names {certificate.ReconstructedSha256}");
        Expect(certificate.Settings == lossy.Settings, "the tier settings differ from the version's");
        IReadOnlyList<LossyTensorInfo> expected = TensorInfos(manifest);
        Expect(certificate.Tensors.Count == expected.Count, $"the version has {expected.Count} tensors, the certificate lists {certificate.Tensors.Count}");
        for (int i = 0; i < Math.Min(certificate.Tensors.Count, expected.Count); i++)
        {
            LossyTensorInfo a = certificate.Tensors[i];
            LossyTensorInfo b = expected[i];
            bool same = a.Name == b.Name && a.DType == b.DType && a.Shape.SequenceEqual(b.Shape) && a.Mode == b.Mode && a.RawBytes == b.RawBytes
                && a.StoredBytes == b.StoredBytes && a.RelativeL2.Equals(b.RelativeL2) && a.RelativeL2OfDelta.Equals(b.RelativeL2OfDelta)
                && a.MaxAbs.Equals(b.MaxAbs) && a.TargetSha256 == b.TargetSha256 && a.BaseSha256 == b.BaseSha256 && a.ReconstructedSha256 == b.ReconstructedSha256;
            Expect(same, $"tensor {i} ('{b.Name}') differs from the version's record");
        }

        problems.AddRange(Certifier.CheckConsistency(certificate));
        return problems;
    }

    private static CertificateEvaluation EvaluateModels(
        ICertificationTask task, string targetPath, string reconstructedPath, string? basePath, CertificationCriteria criteria, string work, CancellationToken ct)
    {
        TaskEvaluation before = Certifier.Evaluate(task, targetPath, work, ct);
        TaskEvaluation after = Certifier.Evaluate(task, reconstructedPath, work, ct);
        TaskEvaluation? baseline = basePath is null ? null : Certifier.Evaluate(task, basePath, work, ct);
        return Certifier.Compare(task, before, after, baseline, criteria);
    }

    private static FidelityCertificate BuildCertificate(Manifest manifest, CertificateEvaluation evaluation, CertificationCriteria criteria, bool passed)
    {
        ManifestLossy lossy = manifest.Lossy!;
        (Sha256Digest listing, long length) = RegistryCertificates.Listing(manifest);
        return new FidelityCertificate(
            listing.ToString(),
            length,
            RegistryCertificates.ListingVersion,
            lossy.BaseModel.ToString(),
            lossy.TargetModel.ToString(),
            lossy.ReconstructedModel.ToString(),
            lossy.Settings,
            TensorInfos(manifest),
            evaluation,
            criteria,
            passed)
        {
            DeltaBinding = FidelityCertificate.RegistryBinding,
        };
    }

    private static List<LossyTensorInfo> TensorInfos(Manifest manifest) => manifest.AllTensors.Select(t => new LossyTensorInfo(
        t.Name,
        t.DType,
        t.Shape,
        t.Lossy?.Mode ?? LossyTier.Lossless,
        t.Length,
        t.StoredBytes,
        t.Lossy?.RelativeL2 ?? 0,
        t.Lossy?.RelativeL2OfDelta ?? 0,
        t.Lossy?.MaxAbs ?? 0,
        (t.Lossy?.Target ?? t.Sha256).ToString(),
        t.Lossy?.Base?.ToString(),
        t.Sha256.ToString())).ToList();

    private static Sha256Digest ModelIdentity(IEnumerable<(string Name, DType DType, long[] Shape, long Length, Sha256Digest Digest)> tensors) =>
        LossyModelDigest.Compute(tensors.Select(t => new LossyDigestEntry(t.Name, t.DType, t.Shape, t.Length, t.Digest)));

    private static void DeleteWork(string work)
    {
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary directory left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }

    /// <summary>First pass: per tensor, the reference, the mode, the record (spooled) and the reconstruction (written).</summary>
    private List<LossyPlan> EncodeLossy(
        SourceFile source, Manifest parent, LossyOptions lossy, LossySettings settings, ObjectStore objects, FileStream spool, Stream reconstructed,
        IProgress<ProgressInfo>? progress, CancellationToken ct)
    {
        var plans = new List<LossyPlan>(source.Tensors.Count);
        long total = source.DataBytes;
        long done = 0;
        using var record = new ArrayPoolBufferWriter<byte>(1 << 16);
        foreach (TensorInfo info in source.Tensors)
        {
            ct.ThrowIfCancellationRequested();
            var plan = new LossyPlan(info);
            if (info.ByteLength > Options.MaxDeltaTensorBytes)
            {
                using (var hashing = new HashingStream(reconstructed))
                {
                    source.File.CopyTensorTo(info.Name, hashing, ct);
                    plan.Target = plan.Reconstructed = new Sha256Digest(hashing.GetHashAndReset());
                }

                plan.Note = $"{info.ByteLength} bytes is above the delta limit of {Options.MaxDeltaTensorBytes}; stored losslessly";
                plans.Add(plan);
                continue;
            }

            byte[] target = source.File.ReadTensor(info.Name);
            plan.Target = Sha256Digest.Compute(target);
            ManifestTensor? counterpart = parent.FindCounterpart(source.StoredName, info.Name, hidden: false);
            ObjectTable? referenceTable = null;
            if (counterpart is null)
            {
                plan.Note = $"'{parent.Name}' has no tensor of this name; stored losslessly";
            }
            else if (counterpart.DType != info.DType || !counterpart.Shape.AsSpan().SequenceEqual(info.Shape.ToArray()))
            {
                plan.Note = $"it is {DescribeShape(counterpart)} in '{parent.Name}'; stored losslessly";
            }
            else
            {
                referenceTable = objects.TryReadTable(counterpart.Object, ct);
                if (referenceTable is null || referenceTable.Depth + 1 > Options.MaxChainDepth)
                {
                    plan.Note = referenceTable is null ? "its reference object is missing; stored losslessly" : "its reference is at the chain depth bound; stored losslessly";
                    referenceTable = null;
                }
            }

            (LossyTier requested, bool overridden) = lossy.ResolveTier(info.Name);
            LossyTier mode = LossyTensorCodec.ChooseMode(requested, overridden, info.DType, info.Shape, referenceTable is not null, settings.MinElements);
            byte[] output = target;
            if (mode != LossyTier.Lossless)
            {
                byte[] reference = objects.ReadWhole(referenceTable!.Id, $"{parent.Name}: {info.Name}", cache: null, ct);
                ReadOnlyMemory<float> moments = (mode is LossyTier.OneBit or LossyTier.Sparse) && settings.RefineScales
                    ? LossyPlan.Moments(lossy.Calibration!, info.Name, (int)info.Shape[^1])
                    : default;
                record.Clear();
                (LossyTier used, byte[] rebuilt) = LossyTensorCodec.Encode(info.Name, mode, info.DType, info.Shape, target, reference, settings, moments.Span, record);
                plan.Base = referenceTable.Id;
                LossyError error = LossyError.Measure(target, rebuilt, reference, hasBase: true, info.DType);
                (plan.RelativeL2, plan.RelativeL2OfDelta, plan.MaxAbs) = (error.RelativeL2, error.RelativeL2OfDelta, error.MaxAbs);
                if (used != LossyTier.Lossless)
                {
                    plan.Mode = used;
                    plan.ReferenceTable = referenceTable;
                    plan.RecordOffset = spool.Position;
                    plan.RecordLength = record.WrittenCount;
                    spool.Write(record.WrittenSpan);
                    output = rebuilt;
                }
                else
                {
                    plan.Note = "its delta is not finite; stored losslessly";
                }
            }

            plan.Reconstructed = plan.Mode == LossyTier.Lossless ? plan.Target : Sha256Digest.Compute(output);
            reconstructed.Write(output);
            plans.Add(plan);
            done += info.ByteLength;
            progress?.Report(new ProgressInfo("lossy", info.Name, done, total));
        }

        return plans;
    }

    /// <summary>Second pass: stores one tensor of a lossy version (its lossy object, or losslessly as any version would).</summary>
    private ManifestTensor StoreLossyTensor(
        LossyPlan plan, string name, SourceFile source, Manifest parent, Manifest? baseManifest, ObjectStore objects, FileStream spool, IncrementalHash ignoredHash, CancellationToken ct)
    {
        TensorInfo info = plan.Info;
        ManifestTensor tensor;
        var context = new TensorContext(name, source, info, Hidden: false, parent, baseManifest, ignoredHash, objects);
        if (plan.Mode == LossyTier.Lossless)
        {
            tensor = (info.ByteLength > Options.MaxDeltaTensorBytes ? StoreLarge(context, ct) : StoreInMemory(context, ct)).Tensor;
        }
        else
        {
            Sha256Digest id = plan.Reconstructed;
            ObjectTable? existing = TryExisting(objects, id, ct);
            if (existing is not null)
            {
                tensor = Reuse(context, id, existing, ct);
            }
            else
            {
                byte[] record = new byte[plan.RecordLength];
                spool.Position = plan.RecordOffset;
                spool.ReadExactly(record);
                using EncodedObject encoded = LossyObject.Encode(plan.Mode, info.DType, info.Shape.ToArray(), record, plan.ReferenceTable!, info.ByteLength, id);
                if (!objects.Put(encoded, ct))
                {
                    tensor = Reuse(context, id, objects.ReadTable(id, info.Name, ct), ct);
                }
                else
                {
                    ObjectTable t = encoded.Table;
                    tensor = new ManifestTensor(
                        info.Name, info.DType, info.Shape.ToArray(), info.ByteLength, id, id, TensorStorage.DeltaFromParent, t.Reference, t.Depth, encoded.Length, Hidden: false);
                }
            }
        }

        return tensor with
        {
            Lossy = new ManifestLossyTensor(plan.Mode, plan.Target, plan.Base, plan.RelativeL2, plan.RelativeL2OfDelta, plan.MaxAbs),
        };
    }

    /// <summary>What the first pass decided for one tensor.</summary>
    private sealed class LossyPlan(TensorInfo info)
    {
        public TensorInfo Info { get; } = info;

        public LossyTier Mode { get; set; } = LossyTier.Lossless;

        public Sha256Digest Target { get; set; }

        public Sha256Digest Reconstructed { get; set; }

        public Sha256Digest? Base { get; set; }

        public ObjectTable? ReferenceTable { get; set; }

        public long RecordOffset { get; set; }

        public int RecordLength { get; set; }

        public double RelativeL2 { get; set; }

        public double RelativeL2OfDelta { get; set; }

        public double MaxAbs { get; set; }

        public string? Note { get; set; }

        public static LossySettings Settings(LossyOptions o) => new(
            o.Tier,
            o.GroupSize,
            (int)Math.Round(o.OutlierFraction * LossySettings.Million, MidpointRounding.ToEven),
            (int)Math.Round(o.SparseFraction * LossySettings.Million, MidpointRounding.ToEven),
            o.DropAndRescale,
            o.RefineScales && o.Calibration is not null,
            o.Seed,
            o.MinElements,
            o.Effort);

        public static ReadOnlyMemory<float> Moments(ILossyCalibration calibration, string name, int columns)
        {
            ReadOnlyMemory<float> moments = calibration.GetInputMoments(name, columns);
            if (!moments.IsEmpty && moments.Length != columns && (long)moments.Length != (long)columns * columns)
            {
                throw new ArgumentException(
                    $"the calibration gave {moments.Length} moments for '{name}', expected {columns} (diagonal) or {(long)columns * columns} (full)");
            }

            return moments;
        }
    }
}
