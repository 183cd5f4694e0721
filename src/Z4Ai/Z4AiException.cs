namespace Z4Ai;

/// <summary>The root of every exception Z4Ai throws for bad data or failed verification.</summary>
public abstract class Z4AiException : Exception
{
    /// <summary>Creates the exception with a message and an optional cause.</summary>
    protected Z4AiException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>What kind of failure this is.</summary>
    public abstract Z4AiErrorKind Kind { get; }
}
