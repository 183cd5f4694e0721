namespace Z4Ai;

/// <summary>
/// A model registry refused an operation because of its state rather than bad data: the version does not exist
/// (<see cref="Z4AiErrorKind.VersionNotFound"/>), or the change conflicts with it
/// (<see cref="Z4AiErrorKind.Conflict"/>: the name is taken, perhaps by a concurrent writer; other versions depend
/// on the one to remove; another process holds the registry lock). Nothing was changed.
/// </summary>
public sealed class Z4AiRegistryException : Z4AiException
{
    private readonly Z4AiErrorKind _kind;

    /// <summary>Creates the exception.</summary>
    /// <param name="kind"><see cref="Z4AiErrorKind.VersionNotFound"/> or <see cref="Z4AiErrorKind.Conflict"/>.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="versionName">The version concerned, if any.</param>
    public Z4AiRegistryException(Z4AiErrorKind kind, string message, string? versionName)
        : base(message)
    {
        _kind = kind;
        VersionName = versionName;
    }

    /// <inheritdoc />
    public override Z4AiErrorKind Kind => _kind;

    /// <summary>The version concerned, or null.</summary>
    public string? VersionName { get; }
}
