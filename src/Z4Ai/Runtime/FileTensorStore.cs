using System.Security.Cryptography;
using Z4Ai.Format;

namespace Z4Ai.Runtime;

/// <summary>
/// A plain <c>.safetensors</c> file or a <c>.z4ai</c> container as a verified store. Container tensors are checked
/// against the SHA-256 the container recorded (chunk checksums first, then the whole tensor); plain tensors against
/// the caller's expected digest when one was given, and otherwise not at all, because the format records none.
/// </summary>
internal sealed class FileTensorStore : IVerifiedTensorStore
{
    private readonly TensorFile _file;
    private readonly ContainerReader? _container;
    private readonly Dictionary<string, byte[]> _expected;

    /// <summary>Takes ownership of <paramref name="file"/> (disposed with the store, or on a failed check here).</summary>
    /// <param name="file">The open file.</param>
    /// <param name="expectedDigests">SHA-256 hex digests by tensor name, or null.</param>
    /// <exception cref="ArgumentException">A digest is not 64 hex digits, or names a tensor the file lacks.</exception>
    /// <exception cref="Z4AiIntegrityException">An expected digest differs from the one the container recorded.</exception>
    public FileTensorStore(TensorFile file, IReadOnlyDictionary<string, string>? expectedDigests)
    {
        _file = file;
        _container = (file as ContainerTensorFile)?.Reader;
        _expected = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (expectedDigests is null)
        {
            return;
        }

        foreach ((string name, string hex) in expectedDigests)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(expectedDigests));
            if (!file.TryGetInfo(name, out _))
            {
                throw new ArgumentException($"an expected digest names tensor '{name}', which {file.FilePath ?? "the file"} does not contain", nameof(expectedDigests));
            }

            byte[] digest = ParseDigest(name, hex, nameof(expectedDigests));
            if (_container is not null)
            {
                _container.TryGetTensor(name, out ContainerEntry? entry);
                if (!digest.AsSpan().SequenceEqual(entry!.Sha256))
                {
                    throw new Z4AiIntegrityException(name, Convert.ToHexStringLower(digest), Convert.ToHexStringLower(entry.Sha256), file.FilePath);
                }
            }

            _expected[name] = digest;
        }
    }

    public string? DisplayName => _file.FilePath;

    public IReadOnlyList<TensorInfo> Tensors => _file.Tensors;

    public IReadOnlyDictionary<string, string>? Metadata => _file.Metadata;

    public TensorVerification GetVerification(string name) =>
        _expected.ContainsKey(name) ? TensorVerification.ExpectedDigest
        : _container is not null ? TensorVerification.RecordedDigest
        : TensorVerification.None;

    public void ReadVerified(TensorInfo tensor, Span<byte> destination)
    {
        if (_container is not null)
        {
            _container.TryGetTensor(tensor.Name, out ContainerEntry? entry);
            _container.ReadTensor(entry!, destination);
            return;
        }

        _file.ReadRange(tensor.Name, 0, destination);
        if (_expected.TryGetValue(tensor.Name, out byte[]? expected))
        {
            Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(destination, actual);
            if (!actual.SequenceEqual(expected))
            {
                throw new Z4AiIntegrityException(tensor.Name, Convert.ToHexStringLower(expected), Convert.ToHexStringLower(actual), _file.FilePath);
            }
        }
    }

    public void Dispose() => _file.Dispose();

    private static byte[] ParseDigest(string name, string? hex, string paramName)
    {
        if (hex is null || hex.Length != SHA256.HashSizeInBytes * 2)
        {
            throw new ArgumentException($"the expected digest of '{name}' must be {SHA256.HashSizeInBytes * 2} hex digits", paramName);
        }

        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"the expected digest of '{name}' is not hex: {hex}", paramName, ex);
        }
    }
}
