namespace Z4Ai.Runtime;

/// <summary>
/// The one thing the streaming cache needs from where tensors live: "write tensor X into this buffer, verified".
/// A file (<see cref="FileTensorStore"/>) implements it today; a registry version implements it with a small
/// adapter (resolve the version's manifest, read each tensor from its content-addressed object, check the digest
/// the manifest records) and is then served through the same cache by <see cref="StreamingTensorSource"/>.
/// </summary>
/// <remarks>Implementations must allow concurrent <see cref="ReadVerified"/> calls from several threads.</remarks>
internal interface IVerifiedTensorStore : IDisposable
{
    /// <summary>A path or name for messages.</summary>
    string? DisplayName { get; }

    /// <summary>Every tensor, in storage order; names are unique.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The model's string metadata, or null.</summary>
    IReadOnlyDictionary<string, string>? Metadata { get; }

    /// <summary>What <see cref="ReadVerified"/> checks this tensor against (the name is known to exist).</summary>
    TensorVerification GetVerification(string name);

    /// <summary>
    /// Fills <paramref name="destination"/> (exactly <see cref="TensorInfo.ByteLength"/> bytes) with the tensor and
    /// verifies it. On any exception the destination contents are unspecified and must not be used.
    /// </summary>
    /// <exception cref="Z4AiIntegrityException">The bytes do not match the digest; the subject is the tensor name.</exception>
    /// <exception cref="Z4AiFormatException">The stored data is corrupt; the exception names the tensor.</exception>
    void ReadVerified(TensorInfo tensor, Span<byte> destination);
}
