namespace Z4Ai;

/// <summary>A tensor was asked for by a name the file does not contain.</summary>
public sealed class Z4AiTensorNotFoundException : Z4AiFormatException
{
    /// <summary>Creates the exception.</summary>
    public Z4AiTensorNotFoundException(string tensorName, string? filePath = null)
        : base(Z4AiErrorKind.TensorNotFound, "no tensor with this name", filePath, tensorName)
    {
    }
}
