namespace Z4Ai.S3.Client;

/// <summary>The outcome of a conditional write that may lose a race.</summary>
/// <param name="Succeeded">True if this write took effect.</param>
/// <param name="ETag">The new object's entity tag (unquoted) when it succeeded; otherwise null.</param>
internal readonly record struct ConditionalWriteResult(bool Succeeded, string? ETag)
{
    public static ConditionalWriteResult Lost => new(false, null);
}

/// <summary>The outcome of <see cref="S3ObjectClient.PutImmutableAsync"/>.</summary>
internal enum PutImmutableOutcome
{
    /// <summary>This call uploaded the object, and HEAD confirmed its size.</summary>
    Created,

    /// <summary>The object was already there with exactly these bytes; nothing was sent.</summary>
    AlreadyPresent,
}
