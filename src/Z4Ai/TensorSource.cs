using Z4Ai.Format;
using Z4Ai.Runtime;

namespace Z4Ai;

/// <summary>Opens <see cref="ITensorSource"/>s: models read tensor by tensor, verified, through a bounded cache.</summary>
public static class TensorSource
{
    /// <summary>
    /// Opens a plain <c>.safetensors</c> file or a <c>.z4ai</c> container (told apart by the container magic) as a
    /// streaming tensor source. Only the header or index is read now.
    /// </summary>
    /// <remarks>
    /// Container tensors are checked against the SHA-256 the container recorded. A plain <c>.safetensors</c> file
    /// records no digests: its tensors are handed out unverified (<see cref="TensorVerification.None"/>) unless
    /// <see cref="TensorSourceOptions.ExpectedDigests"/> supplies them.
    /// </remarks>
    /// <param name="path">The file to read.</param>
    /// <param name="options">Budget, prefetch threads and expected digests; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The budget is smaller than the largest tensor (the message gives
    /// the size needed), or another option is out of range.</exception>
    /// <exception cref="ArgumentException">An expected digest is malformed or names a tensor the file lacks.</exception>
    /// <exception cref="Z4AiFormatException">The header or index is malformed.</exception>
    /// <exception cref="Z4AiIntegrityException">An expected digest differs from the one a container recorded.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ITensorSource Open(string path, TensorSourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new TensorSourceOptions();
        options.Validate();
        TensorFile file = TensorFile.Open(path);
        FileTensorStore store;
        try
        {
            store = new FileTensorStore(file, options.ExpectedDigests);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new StreamingTensorSource(store, options);
    }

    /// <summary>
    /// Opens one version of a model registry as a streaming tensor source. Every tensor is checked against the
    /// SHA-256 the version's manifest records before it is handed out (<see cref="TensorVerification.ExpectedDigest"/>).
    /// </summary>
    /// <param name="registry">The open registry.</param>
    /// <param name="version">The version name.</param>
    /// <param name="options">Budget and prefetch threads; expected digests, if given, must agree with the manifest.</param>
    /// <exception cref="Z4AiRegistryException">No such version.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The budget is smaller than the largest tensor.</exception>
    public static ITensorSource Open(ModelRegistry registry, string version, TensorSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrEmpty(version);
        options ??= new TensorSourceOptions();
        options.Validate();
        Registry.RegistryTensorFile file = registry.OpenFile(version);
        FileTensorStore store;
        try
        {
            IReadOnlyDictionary<string, string> digests = file.GetDigests();
            if (options.ExpectedDigests is { } expected)
            {
                foreach ((string name, string hex) in expected)
                {
                    if (digests.TryGetValue(name, out string? recorded) && !string.Equals(recorded, hex, StringComparison.OrdinalIgnoreCase))
                    {
                        throw new Z4AiIntegrityException(name, hex.ToLowerInvariant(), recorded, file.FilePath);
                    }
                }
            }

            store = new FileTensorStore(file, digests);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new StreamingTensorSource(store, options);
    }
}
