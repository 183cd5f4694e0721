using System.Text;

namespace Z4Ai;

/// <summary>
/// The input is not a valid safetensors file, Z4Ai container, frame, delta or manifest. The message names the
/// file, tensor and offset where known, and what was expected.
/// </summary>
public class Z4AiFormatException : Z4AiException
{
    private readonly Z4AiErrorKind _kind;

    /// <summary>Creates the exception.</summary>
    /// <param name="kind">The failure kind.</param>
    /// <param name="message">What was found and what was expected.</param>
    /// <param name="filePath">The file involved, if any.</param>
    /// <param name="tensorName">The tensor involved, if any.</param>
    /// <param name="offset">The byte offset involved, if any.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public Z4AiFormatException(
        Z4AiErrorKind kind,
        string message,
        string? filePath = null,
        string? tensorName = null,
        long? offset = null,
        Exception? innerException = null)
        : base(Compose(message, filePath, tensorName, offset), innerException)
    {
        _kind = kind;
        FilePath = filePath;
        TensorName = tensorName;
        Offset = offset;
        Detail = message;
    }

    /// <inheritdoc />
    public override Z4AiErrorKind Kind => _kind;

    /// <summary>The file involved, or null when the input was not a file.</summary>
    public string? FilePath { get; }

    /// <summary>The tensor involved, or null.</summary>
    public string? TensorName { get; }

    /// <summary>The byte offset involved, or null.</summary>
    public long? Offset { get; }

    /// <summary>The message without the file/tensor/offset prefix.</summary>
    public string Detail { get; }

    /// <summary>Returns a copy of this exception that also names <paramref name="path"/>.</summary>
    public Z4AiFormatException WithFile(string path) =>
        FilePath is null ? new Z4AiFormatException(Kind, Detail, path, TensorName, Offset, this) : this;

    private static string Compose(string message, string? filePath, string? tensorName, long? offset)
    {
        if (filePath is null && tensorName is null && offset is null)
        {
            return message;
        }

        var sb = new StringBuilder();
        if (filePath is not null)
        {
            sb.Append(filePath);
        }

        if (tensorName is not null)
        {
            sb.Append(sb.Length > 0 ? ", " : string.Empty).Append("tensor '").Append(tensorName).Append('\'');
        }

        if (offset is not null)
        {
            sb.Append(sb.Length > 0 ? ", " : string.Empty).Append("offset ").Append(offset.Value);
        }

        return sb.Append(": ").Append(message).ToString();
    }
}
