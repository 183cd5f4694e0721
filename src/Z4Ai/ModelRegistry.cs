using Z4Ai.Registry;

namespace Z4Ai;

/// <summary>
/// A model family stored once: a base version plus any number of fine-tunes and checkpoints, each tensor kept as a
/// content-addressed object (stored once however many versions share it), from scratch or as a verified lossless
/// delta against the same tensor of the parent or the base. Every version restores byte for byte.
/// </summary>
/// <remarks>
/// <para>
/// The registry lives on an <see cref="IBlobStore"/> (<see cref="LocalBlobStore"/>, a directory, by default); its
/// byte layout and protocols are in docs/registry-format.md. Adding a version writes its objects first and publishes
/// its manifest last with a conditional create, so a process killed at any instant leaves only complete versions,
/// and two writers racing for one name cannot both win (the loser gets a <see cref="Z4AiRegistryException"/> of kind
/// <see cref="Z4AiErrorKind.Conflict"/>). Delta chains are bounded by <see cref="RegistryOptions.MaxChainDepth"/>, so
/// reading a version costs about the same at the thousandth version as at the first.
/// </para>
/// <para>
/// Every tensor handed out is checked against its SHA-256. Memory is bounded by about one tensor plus its reference
/// during <see cref="Add(string, string?, string?, IProgress{ProgressInfo}?, IReadOnlyList{string}?, CancellationToken)"/>, <see cref="Get"/> and <see cref="Verify"/>. Instances are thread-safe; concurrent use
/// from several processes is what the store's locks and conditional creates are for.
/// </para>
/// </remarks>
public sealed class ModelRegistry
{
    private readonly RegistryEngine _engine;

    private ModelRegistry(RegistryEngine engine, string baseName)
    {
        _engine = engine;
        BaseName = baseName;
    }

    /// <summary>The store the registry lives on.</summary>
    public IBlobStore Store => _engine.Access.Store;

    /// <summary>The name of the family's base version.</summary>
    public string BaseName { get; }

    /// <summary>The options in use.</summary>
    public RegistryOptions Options => _engine.Options;

    /// <summary>
    /// Creates a registry on <paramref name="store"/> whose base version is the model at <paramref name="baseModelPath"/>
    /// (a <c>.safetensors</c> or <c>.z4ai</c> file, a sharding index, or a directory holding one). An Init that was
    /// interrupted is resumed by calling it again with the same name.
    /// </summary>
    /// <param name="store">An empty store, such as <c>new LocalBlobStore(directory)</c>.</param>
    /// <param name="baseModelPath">The base model.</param>
    /// <param name="name">The base version's name; by default derived from the file name.</param>
    /// <param name="options">Settings; <see cref="RegistryOptions.Default"/> when null.</param>
    /// <param name="progress">Receives per-tensor progress.</param>
    /// <param name="cancellationToken">Cancels the operation; nothing is published.</param>
    /// <exception cref="Z4AiRegistryException">The store is already a registry (<see cref="Z4AiErrorKind.Conflict"/>).</exception>
    /// <exception cref="Z4AiFormatException">The model file is invalid.</exception>
    public static ModelRegistry Init(
        IBlobStore store,
        string baseModelPath,
        string? name = null,
        RegistryOptions? options = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(baseModelPath);
        name = ResolveName(name, baseModelPath);
        var engine = new RegistryEngine(store, options ?? RegistryOptions.Default);
        using ModelSources sources = RegistryEngine.OpenSources(baseModelPath);
        engine.Init(sources.Files, sources.Index, name, progress, cancellationToken, RegistryTextFiles.Collect(baseModelPath, null, cancellationToken));
        return new ModelRegistry(engine, name);
    }

    /// <summary>Creates a registry on the thread pool; see <see cref="Init"/>.</summary>
    public static Task<ModelRegistry> InitAsync(
        IBlobStore store,
        string baseModelPath,
        string? name = null,
        RegistryOptions? options = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Init(store, baseModelPath, name, options, progress, cancellationToken), cancellationToken);

    /// <summary>Opens an existing registry.</summary>
    /// <exception cref="Z4AiFormatException">The store is not a registry, or its record is damaged.</exception>
    public static ModelRegistry Open(IBlobStore store, RegistryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        var engine = new RegistryEngine(store, options ?? RegistryOptions.Default);
        return new ModelRegistry(engine, engine.ReadRoot().Base);
    }

    /// <summary>
    /// Adds a version: per tensor, the smallest of a copy (the bytes are already stored), a delta against the parent's
    /// or the base's tensor of the same name, or the tensor from scratch. Tensors that fit nothing in the family
    /// (other names, shapes or dtypes) are stored from scratch and the report says why.
    /// </summary>
    /// <param name="modelPath">A <c>.safetensors</c> or <c>.z4ai</c> file (use <see cref="Import"/> for a sharded layout).</param>
    /// <param name="name">The new version's name; by default derived from the file name.</param>
    /// <param name="parent">The version it derives from; by default the most recently added one.</param>
    /// <param name="progress">Receives per-tensor progress.</param>
    /// <param name="cancellationToken">Cancels the operation; nothing is published.</param>
    /// <param name="textFiles">Text files to keep with the version besides those found next to the model (config,
    /// tokenizer, model card and <c>*.txt</c> files are kept automatically); see docs/archive-format.md.</param>
    /// <returns>How each tensor was stored, and the sizes.</returns>
    /// <exception cref="Z4AiRegistryException">The name is taken, or the parent does not exist.</exception>
    /// <exception cref="Z4AiFormatException">The model file is invalid, or the registry is damaged.</exception>
    public RegistryAddReport Add(
        string modelPath,
        string? name = null,
        string? parent = null,
        IProgress<ProgressInfo>? progress = null,
        IReadOnlyList<string>? textFiles = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        if (Directory.Exists(modelPath) || modelPath.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{modelPath} is a sharded layout; add it with Import", nameof(modelPath));
        }

        return AddCore(modelPath, name, parent, progress, textFiles, cancellationToken);
    }

    /// <summary>
    /// Adds a version in a lossy tier: per tensor a quantised delta against the same tensor of the parent (norms,
    /// biases, small tensors and tensors without a counterpart stay lossless), published together with a fidelity
    /// certificate that says what <see cref="RegistryLossyOptions.Task"/> measured on the target and on the
    /// reconstruction, bound by SHA-256 to the version (docs/registry-format.md, section 6). Nothing is stored unless
    /// the certificate passes or <see cref="RegistryLossyOptions.Force"/> is set. <see cref="Get"/> then restores the
    /// reconstruction (not the original), checked against its SHA-256.
    /// </summary>
    /// <param name="modelPath">A single <c>.safetensors</c> or <c>.z4ai</c> file: the fine-tune.</param>
    /// <param name="lossy">The tier, the task and the criteria.</param>
    /// <param name="name">The new version's name; by default derived from the file name.</param>
    /// <param name="parent">The version the deltas are made against; by default the most recently added one.</param>
    /// <param name="progress">Receives per-tensor progress.</param>
    /// <param name="cancellationToken">Cancels the operation; nothing is published.</param>
    /// <returns>How each tensor was stored, the sizes, and the certificate.</returns>
    /// <exception cref="Z4AiCertificationException">No task and no force, the certificate did not pass
    /// (<see cref="Z4AiErrorKind.CertificationRequired"/>), or the evaluator failed (<see cref="Z4AiErrorKind.EvaluatorFailed"/>);
    /// the registry is unchanged.</exception>
    /// <exception cref="Z4AiRegistryException">The name is taken, or the parent does not exist.</exception>
    public RegistryAddReport Add(
        string modelPath,
        RegistryLossyOptions lossy,
        string? name = null,
        string? parent = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(lossy);
        if (Directory.Exists(modelPath) || modelPath.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{modelPath} is a sharded layout; lossy versions are single files", nameof(modelPath));
        }

        name = ResolveName(name, modelPath);
        using ModelSources sources = RegistryEngine.OpenSources(modelPath);
        return _engine.AddLossy(sources.Files[0], modelPath, name, parent, lossy, progress, cancellationToken);
    }

    /// <summary>
    /// Certifies a lossy version again (another task, other criteria, or after a certificate went missing): the
    /// target it was made from and the version as stored are evaluated, and the certificate becomes the version's
    /// current one, passed or not. The target is needed because a lossy version does not keep it.
    /// </summary>
    /// <param name="name">A lossy version.</param>
    /// <param name="targetModelPath">The model the version was made from (its identity is checked).</param>
    /// <param name="task">What to measure.</param>
    /// <param name="criteria">What to meet; <see cref="CertificationCriteria.Default"/> when null.</param>
    /// <param name="evaluateBase">Also evaluate the reference version, when it still exists.</param>
    /// <param name="cancellationToken">Cancels the operation; nothing is stored.</param>
    /// <exception cref="Z4AiCertificationException">The version is lossless, the target is another model
    /// (<see cref="Z4AiErrorKind.CertificateMismatch"/>), or the evaluator failed.</exception>
    public FidelityCertificate Certify(
        string name, string targetModelPath, ICertificationTask task, CertificationCriteria? criteria = null, bool evaluateBase = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentException.ThrowIfNullOrEmpty(targetModelPath);
        ArgumentNullException.ThrowIfNull(task);
        return _engine.Certify(name, targetModelPath, task, criteria ?? CertificationCriteria.Default, evaluateBase, cancellationToken);
    }

    /// <summary>The current certificate of a version: null for a lossless version or a lossy one forced without one.</summary>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    /// <exception cref="Z4AiCertificationException">The certificate blob is damaged.</exception>
    public FidelityCertificate? GetCertificate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _engine.GetCertificate(name, CancellationToken.None);
    }

    /// <summary>Adds a version on the thread pool; see <see cref="Add(string, string?, string?, IProgress{ProgressInfo}?, IReadOnlyList{string}?, CancellationToken)"/>.</summary>
    public Task<RegistryAddReport> AddAsync(
        string modelPath,
        string? name = null,
        string? parent = null,
        IProgress<ProgressInfo>? progress = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Add(modelPath, name, parent, progress, cancellationToken: cancellationToken), cancellationToken);

    /// <summary>
    /// Adds a version from a sharded Hugging Face layout: a <c>model.safetensors.index.json</c> and its shards (give
    /// the index or its directory). Every shard is kept byte for byte, and so is the index, for <see cref="Export"/>.
    /// Shard names must be plain file names next to the index; <c>weight_map</c> is an allow-list (a tensor a shard
    /// holds without the map assigning it there is kept for export but not readable by name).
    /// </summary>
    /// <param name="path">The sharding index, or the folder holding it.</param>
    /// <param name="name">The new version's name; by default derived from the path.</param>
    /// <param name="parent">The version it derives from; by default the most recently added one.</param>
    /// <param name="progress">Receives per-tensor progress.</param>
    /// <param name="textFiles">Text files to keep besides those found next to the index (see <see cref="Add(string, string?, string?, IProgress{ProgressInfo}?, IReadOnlyList{string}?, CancellationToken)"/>).</param>
    /// <param name="cancellationToken">Cancels the operation; nothing is published.</param>
    /// <returns>How each tensor was stored, and the sizes.</returns>
    /// <exception cref="Z4AiFormatException">The index is invalid, names a missing shard or a tensor its shard lacks.</exception>
    public RegistryAddReport Import(
        string path,
        string? name = null,
        string? parent = null,
        IProgress<ProgressInfo>? progress = null,
        IReadOnlyList<string>? textFiles = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return AddCore(path, name, parent, progress, textFiles, cancellationToken);
    }

    /// <summary>
    /// Writes a version to <paramref name="outputPath"/> as one safetensors file: byte for byte the file it was
    /// added from (every tensor and the whole file are checked against their SHA-256). A sharded version becomes one
    /// canonical file of all its tensors (use <see cref="Export"/> to get the shards back). The file is written under
    /// a temporary name and renamed into place only when everything verified.
    /// </summary>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    /// <exception cref="Z4AiIntegrityException">Stored bytes fail verification; no output is left.</exception>
    public void Get(string name, string outputPath, IProgress<ProgressInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        _engine.Get(name, outputPath, progress, cancellationToken);
    }

    /// <summary>Writes a version to a file on the thread pool; see <see cref="Get"/>.</summary>
    public Task GetAsync(string name, string outputPath, IProgress<ProgressInfo>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Get(name, outputPath, progress, cancellationToken), cancellationToken);

    /// <summary>
    /// Writes every file of a version into <paramref name="outputDirectory"/> under its original name, plus its
    /// sharding index if it had one, each byte for byte and verified.
    /// </summary>
    /// <returns>The paths written.</returns>
    public IReadOnlyList<string> Export(string name, string outputDirectory, IProgress<ProgressInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        return _engine.Export(name, outputDirectory, progress, cancellationToken);
    }

    /// <summary>Reads one tensor of a version, decoding only its own object (and its delta chain), verified.</summary>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    /// <exception cref="Z4AiTensorNotFoundException">The version has no tensor of that name.</exception>
    /// <exception cref="Z4AiIntegrityException">The stored bytes fail verification.</exception>
    public Tensor GetTensor(string name, string tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _engine.GetTensor(name, tensor, CancellationToken.None);
    }

    /// <summary>Reads one tensor on the thread pool; see <see cref="GetTensor"/>.</summary>
    public Task<Tensor> GetTensorAsync(string name, string tensor, CancellationToken cancellationToken = default) =>
        Task.Run(() => _engine.GetTensor(name, tensor, cancellationToken), cancellationToken);

    /// <summary>
    /// Opens a version for lazy reads with the same surface as <see cref="SafeTensorsCompat.Open(string)"/>: keys,
    /// metadata, verified <see cref="SafeTensorsReader.GetTensor"/> and <see cref="SafeTensorsReader.GetSlice"/>
    /// (which decodes only the chunks a slice covers).
    /// </summary>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    public SafeTensorsReader Open(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new SafeTensorsReader(_engine.Open(name, CancellationToken.None));
    }

    /// <summary>Opens a version as the internal file surface (used by <see cref="TensorSource"/>).</summary>
    internal RegistryTensorFile OpenFile(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _engine.Open(name, CancellationToken.None);
    }

    /// <summary>
    /// Re-hashes what one version (or, when <paramref name="name"/> is null, the whole registry) needs: manifests are
    /// validated and every object decoded and checked against its SHA-256. Never throws for corruption: the report
    /// names every damaged object or manifest and every version it breaks.
    /// </summary>
    /// <exception cref="Z4AiRegistryException">The named version does not exist.</exception>
    public RegistryVerifyReport Verify(string? name = null, IProgress<ProgressInfo>? progress = null, CancellationToken cancellationToken = default) =>
        _engine.Verify(name, progress, cancellationToken);

    /// <summary>Verifies on the thread pool; see <see cref="Verify"/>.</summary>
    public Task<RegistryVerifyReport> VerifyAsync(string? name = null, IProgress<ProgressInfo>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Verify(name, progress, cancellationToken), cancellationToken);

    /// <summary>Every version, oldest first; a version whose manifest is damaged is listed with <see cref="RegistryVersion.Damage"/> set.</summary>
    public IReadOnlyList<RegistryVersion> List() => _engine.List();

    /// <summary>Describes one version.</summary>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    public RegistryVersion GetVersion(string name) => _engine.DescribeWithCertificate(_engine.ReadManifest(name));

    /// <summary>Whether a version of this name exists.</summary>
    public bool Contains(string name) =>
        RegistryLayout.IsValidVersionName(name) && _engine.Access.GetInfo(RegistryLayout.ManifestKey(name)) is not null;

    /// <summary>
    /// The lineage of a version back to the base, newest first. It ends early at a parent that was removed (the last
    /// entry's parent then names a version that no longer exists) or whose manifest is damaged.
    /// </summary>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    public IReadOnlyList<RegistryVersion> Log(string name) => _engine.Log(name);

    /// <summary>
    /// Removes a version. Its objects stay until <see cref="Gc"/>, and objects other versions' deltas depend on stay
    /// as long as those versions do, so removing never damages another version. A version that others name as parent
    /// is removed only with <paramref name="force"/> (their lineage then ends at the removed name); the base is never
    /// removed.
    /// </summary>
    /// <exception cref="Z4AiRegistryException">No such version, or it is the base, or others derive from it and
    /// <paramref name="force"/> is false (<see cref="Z4AiErrorKind.Conflict"/>).</exception>
    public void Remove(string name, bool force = false) => _engine.Remove(name, force);

    /// <summary>
    /// Deletes objects that no version needs and that are older than the grace period
    /// (<see cref="RegistryOptions.GcGracePeriod"/> unless given), plus stray temporary blobs of interrupted writers.
    /// It takes the registry lock exclusively (waiting for adds in progress), and spares young objects, so a writer in
    /// flight is never robbed.
    /// </summary>
    /// <exception cref="Z4AiFormatException">A manifest is damaged (nothing is deleted then).</exception>
    /// <exception cref="Z4AiRegistryException">Another process kept the registry lock (<see cref="Z4AiErrorKind.Conflict"/>).</exception>
    public RegistryGcReport Gc(TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default)
    {
        TimeSpan grace = gracePeriod ?? Options.GcGracePeriod;
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero, nameof(gracePeriod));
        return _engine.Gc(grace, cancellationToken);
    }

    /// <summary>Collects garbage on the thread pool; see <see cref="Gc"/>.</summary>
    public Task<RegistryGcReport> GcAsync(TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Gc(gracePeriod, cancellationToken), cancellationToken);

    /// <summary>The total size of every object in the store (what the family occupies, manifests aside).</summary>
    public long GetStoredBytes() => _engine.Access.List(RegistryLayout.ObjectPrefix).Sum(b => b.Length);

    private static string ResolveName(string? name, string path) =>
        name ?? RegistryLayout.SuggestVersionName(path)
        ?? throw new ArgumentException($"no version name can be derived from '{path}'; pass one", nameof(name));

    private RegistryAddReport AddCore(string path, string? name, string? parent, IProgress<ProgressInfo>? progress, IReadOnlyList<string>? textFiles, CancellationToken cancellationToken)
    {
        name = ResolveName(name, path);
        using ModelSources sources = RegistryEngine.OpenSources(path);
        return _engine.Add(sources.Files, sources.Index, name, parent, progress, cancellationToken, RegistryTextFiles.Collect(path, textFiles, cancellationToken));
    }
}
