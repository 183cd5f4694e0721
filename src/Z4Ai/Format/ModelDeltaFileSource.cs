using System.Buffers;
using System.Security.Cryptography;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Format;

/// <summary>
/// A <c>.safetensors</c> file or <c>.z4ai</c> container as a <see cref="ModelDeltaSource"/>. A container's tensor
/// digests come from its index; a plain file carries none, so opening one hashes every tensor (in parallel, in
/// bounded memory), which is also what lets a wrong base be rejected before anything is written.
/// </summary>
internal sealed class ModelDeltaFileSource : ModelDeltaSource
{
    private const int HashBlockSize = 4 << 20;

    private readonly TensorFile _file;
    private readonly ModelTensor[] _tensors;

    private ModelDeltaFileSource(TensorFile file, ModelTensor[] tensors, string displayName)
    {
        _file = file;
        _tensors = tensors;
        DisplayName = displayName;
        ModelDigest = Delta.ModelDigest.Compute(tensors);
    }

    /// <summary>The open file.</summary>
    public TensorFile File => _file;

    public override IReadOnlyList<ModelTensor> Tensors => _tensors;

    public override Sha256Digest ModelDigest { get; }

    public override string DisplayName { get; }

    /// <summary>Opens a tensor file and learns every tensor's SHA-256 (hashing a plain file's tensors).</summary>
    /// <param name="path">The file.</param>
    /// <param name="stage">The progress stage name while hashing.</param>
    /// <param name="parallelism">How many tensors are hashed at once.</param>
    /// <param name="progress">Receives per-tensor progress while hashing, or null.</param>
    /// <param name="cancellationToken">Cancels the hashing.</param>
    public static ModelDeltaFileSource Open(string path, string stage, int parallelism, IProgress<ProgressInfo>? progress, CancellationToken cancellationToken)
    {
        TensorFile file = TensorFile.Open(path);
        try
        {
            ModelTensor[] tensors = file is ContainerTensorFile container
                ? container.Reader.Tensors.Select(e => new ModelTensor(e.Name, e.DType, e.Shape, e.RawLength, new Sha256Digest(e.Sha256))).ToArray()
                : HashAll(file, stage, parallelism, progress, cancellationToken);
            return new ModelDeltaFileSource(file, tensors, path);
        }
        catch (Z4AiFormatException ex) when (ex.FilePath is null)
        {
            file.Dispose();
            throw ex.WithFile(path);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override bool Read(ModelTensor tensor, long offset, Span<byte> destination, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (offset == 0 && destination.Length == tensor.Length && _file is ContainerTensorFile container
            && container.Reader.TryGetTensor(tensor.Name, out ContainerEntry? entry))
        {
            // A whole container tensor is verified against its SHA-256 as it is decoded.
            container.Reader.ReadTensor(entry, destination);
            return true;
        }

        _file.ReadRange(tensor.Name, offset, destination);
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }
    }

    private static ModelTensor[] HashAll(TensorFile file, string stage, int parallelism, IProgress<ProgressInfo>? progress, CancellationToken cancellationToken)
    {
        IReadOnlyList<TensorInfo> infos = file.Tensors;
        var tensors = new ModelTensor[infos.Count];
        long total = infos.Sum(t => t.ByteLength);
        long done = 0;
        var gate = new Lock();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken };

        // Largest first, so one big tensor does not start last and leave the other workers idle.
        int[] order = Enumerable.Range(0, infos.Count).OrderByDescending(i => infos[i].ByteLength).ToArray();
        try
        {
            Parallel.ForEach(order, options, i =>
            {
                TensorInfo info = infos[i];
                tensors[i] = new ModelTensor(info.Name, info.DType, info.Shape.ToArray(), info.ByteLength, Hash(file, info, cancellationToken));
                if (progress is not null)
                {
                    lock (gate)
                    {
                        done += info.ByteLength;
                        progress.Report(new ProgressInfo(stage, info.Name, done, total));
                    }
                }
            });
        }
        catch (AggregateException ex)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
        }

        return tensors;
    }

    private static Sha256Digest Hash(TensorFile file, TensorInfo info, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(HashBlockSize, Math.Max(1, info.ByteLength)));
        try
        {
            for (long offset = 0; offset < info.ByteLength;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(buffer.Length, info.ByteLength - offset);
                file.ReadRange(info.Name, offset, buffer.AsSpan(0, n));
                hash.AppendData(buffer, 0, n);
                offset += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Span<byte> digest = stackalloc byte[Sha256Digest.Size];
        hash.GetHashAndReset(digest);
        return new Sha256Digest(digest);
    }
}
