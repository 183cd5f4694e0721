using System.Diagnostics.CodeAnalysis;
using Z4Ai.Delta;
using Z4Ai.Integrity;

namespace Z4Ai.Format;

/// <summary>
/// A model that model-delta code reads tensors from: a tensor file (<see cref="ModelDeltaFileSource"/>), or a delta
/// applied to another source (<see cref="ModelDeltaLinkSource"/>), which is how a chain of deltas is walked tensor
/// by tensor without materialising the intermediate models. Every tensor's SHA-256 is known up front.
/// </summary>
/// <remarks>Not thread-safe: one thread reads at a time.</remarks>
internal abstract class ModelDeltaSource : IDisposable
{
    private Dictionary<string, ModelTensor>? _byName;

    /// <summary>The tensors, in the model's data order.</summary>
    public abstract IReadOnlyList<ModelTensor> Tensors { get; }

    /// <summary>The model's identity (<see cref="ModelDigest"/>).</summary>
    public abstract Sha256Digest ModelDigest { get; }

    /// <summary>A name for messages: the file path.</summary>
    public abstract string DisplayName { get; }

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out ModelTensor? tensor)
    {
        if (_byName is null)
        {
            var map = new Dictionary<string, ModelTensor>(Tensors.Count, StringComparer.Ordinal);
            foreach (ModelTensor t in Tensors)
            {
                map[t.Name] = t;
            }

            _byName = map;
        }

        return _byName.TryGetValue(name, out tensor);
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with bytes <c>[offset, offset + destination.Length)</c> of
    /// <paramref name="tensor"/> (one of <see cref="Tensors"/>).
    /// </summary>
    /// <returns>
    /// True when this read checked the bytes against the tensor's SHA-256 (only possible for a read of the whole
    /// tensor); false when the caller must check them itself. A failed check throws
    /// <see cref="Z4AiIntegrityException"/>.
    /// </returns>
    public abstract bool Read(ModelTensor tensor, long offset, Span<byte> destination, CancellationToken cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases files.</summary>
    protected abstract void Dispose(bool disposing);
}
