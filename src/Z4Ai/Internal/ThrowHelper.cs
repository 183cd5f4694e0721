using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Z4Ai.Internal;

/// <summary>Cold-path throws, kept out of line so hot loops stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Format(Z4AiErrorKind kind, string message, string? tensorName = null, long? offset = null) =>
        throw new Z4AiFormatException(kind, message, tensorName: tensorName, offset: offset);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static T Format<T>(Z4AiErrorKind kind, string message, string? tensorName = null, long? offset = null) =>
        throw new Z4AiFormatException(kind, message, tensorName: tensorName, offset: offset);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void CorruptFrame(string message, long? offset = null) =>
        throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, message, offset: offset);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static T CorruptFrame<T>(string message, long? offset = null) =>
        throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, message, offset: offset);
}
