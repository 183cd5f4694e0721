namespace Z4Ai.Internal;

/// <summary>Checked size arithmetic for shapes, counted in bits as the reference does.</summary>
internal static class ShapeMath
{
    /// <summary>The outcome of a size computation.</summary>
    internal enum Status
    {
        Ok,
        Overflow,
        Misaligned,
    }

    /// <summary>Computes the byte length of a shape without throwing.</summary>
    public static Status TryGetByteLength(DType dtype, ReadOnlySpan<ulong> shape, out ulong bytes)
    {
        bytes = 0;
        ulong elements = 1;
        foreach (ulong d in shape)
        {
            if (!TryMultiply(elements, d, out elements))
            {
                return Status.Overflow;
            }
        }

        if (!TryMultiply(elements, (ulong)dtype.BitSize(), out ulong bits))
        {
            return Status.Overflow;
        }

        if (bits % 8 != 0)
        {
            return Status.Misaligned;
        }

        bytes = bits / 8;
        return Status.Ok;
    }

    /// <summary>Computes the byte length of a shape, throwing the reference error kinds.</summary>
    public static ulong GetByteLength(DType dtype, ReadOnlySpan<long> shape, string? tensorName)
    {
        Span<ulong> dims = shape.Length <= 16 ? stackalloc ulong[shape.Length] : new ulong[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            dims[i] = (ulong)shape[i];
        }

        return TryGetByteLength(dtype, dims, out ulong bytes) switch
        {
            Status.Ok => bytes,
            Status.Overflow => throw new Z4AiFormatException(
                Z4AiErrorKind.ValidationOverflow, "the element or bit count of the shape overflows 64 bits", tensorName: tensorName),
            _ => throw new Z4AiFormatException(
                Z4AiErrorKind.MisalignedSlice,
                $"{dtype.GetName()} with this shape is not a whole number of bytes",
                tensorName: tensorName),
        };
    }

    private static bool TryMultiply(ulong a, ulong b, out ulong product)
    {
        ulong high = Math.BigMul(a, b, out product);
        return high == 0;
    }
}
