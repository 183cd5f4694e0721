using System.Diagnostics.CodeAnalysis;

namespace Z4Ai;

/// <summary>Facts about <see cref="DType"/> values: bit sizes and the exact safetensors names.</summary>
public static class DTypeInfo
{
    private static readonly string[] Names =
    [
        "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
        "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
    ];

    private static readonly byte[] Bits =
    [
        8, 4, 6, 6, 8, 8, 8, 8, 8, 8,
        8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64,
    ];

    /// <summary>The number of defined dtypes.</summary>
    public const int Count = 22;

    /// <summary>Bits per element, as the reference counts them (F4 is 4, F6_* are 6).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined dtype.</exception>
    public static int BitSize(this DType dtype)
    {
        uint index = (uint)dtype;
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, (uint)Count, nameof(dtype));
        return Bits[index];
    }

    /// <summary>
    /// Bytes per element for whole-byte dtypes, or 0 for the sub-byte ones (F4, F6_E2M3, F6_E3M2).
    /// </summary>
    public static int ElementSize(this DType dtype)
    {
        int bits = dtype.BitSize();
        return bits % 8 == 0 ? bits / 8 : 0;
    }

    /// <summary>True for the IEEE-like floating-point dtypes whose bytes carry sign, exponent and mantissa.</summary>
    public static bool IsFloat(this DType dtype) => dtype is DType.F16 or DType.BF16 or DType.F32 or DType.F64
        or DType.C64 or DType.F8_E4M3 or DType.F8_E5M2 or DType.F8_E4M3FNUZ or DType.F8_E5M2FNUZ
        or DType.F8_E8M0 or DType.F4 or DType.F6_E2M3 or DType.F6_E3M2;

    /// <summary>The exact safetensors name of the dtype, such as <c>BF16</c> or <c>F8_E4M3</c>.</summary>
    public static string GetName(this DType dtype)
    {
        uint index = (uint)dtype;
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, (uint)Count, nameof(dtype));
        return Names[index];
    }

    /// <summary>Parses a safetensors dtype name; the comparison is case-sensitive, as in the reference.</summary>
    public static bool TryParse(string? name, out DType dtype)
    {
        if (name is not null)
        {
            for (int i = 0; i < Names.Length; i++)
            {
                if (string.Equals(Names[i], name, StringComparison.Ordinal))
                {
                    dtype = (DType)i;
                    return true;
                }
            }
        }

        dtype = default;
        return false;
    }

    /// <summary>Parses a dtype name case-insensitively, also accepting common aliases (<c>bfloat16</c>, <c>fp16</c>, <c>float32</c>).</summary>
    public static bool TryParseLoose(string? name, [NotNullWhen(true)] out DType? dtype)
    {
        dtype = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        string upper = name.Trim().ToUpperInvariant();
        DType? alias = upper switch
        {
            "BFLOAT16" => DType.BF16,
            "FP16" or "FLOAT16" or "HALF" => DType.F16,
            "FP32" or "FLOAT32" or "FLOAT" => DType.F32,
            "FP64" or "FLOAT64" or "DOUBLE" => DType.F64,
            "INT8" => DType.I8,
            "UINT8" => DType.U8,
            "INT16" => DType.I16,
            "INT32" => DType.I32,
            "INT64" => DType.I64,
            _ => null,
        };
        if (alias is not null)
        {
            dtype = alias;
            return true;
        }

        if (TryParse(upper, out DType parsed))
        {
            dtype = parsed;
            return true;
        }

        return false;
    }
}
