namespace Z4Ai;

/// <summary>
/// Every element type of the safetensors format. The numeric values follow the reference enum order,
/// which is also the alignment order its writer sorts by (descending).
/// </summary>
public enum DType
{
    /// <summary>Boolean, one byte per element (<c>BOOL</c>).</summary>
    BOOL = 0,
    /// <summary>MXFP4 E2M1, 4 bits per element (<c>F4</c>).</summary>
    F4 = 1,
    /// <summary>MXFP6 E2M3, 6 bits per element (<c>F6_E2M3</c>).</summary>
    F6_E2M3 = 2,
    /// <summary>MXFP6 E3M2, 6 bits per element (<c>F6_E3M2</c>).</summary>
    F6_E3M2 = 3,
    /// <summary>Unsigned 8-bit integer (<c>U8</c>).</summary>
    U8 = 4,
    /// <summary>Signed 8-bit integer (<c>I8</c>).</summary>
    I8 = 5,
    /// <summary>FP8 E5M2 (<c>F8_E5M2</c>).</summary>
    F8_E5M2 = 6,
    /// <summary>FP8 E4M3 "fn" (<c>F8_E4M3</c>).</summary>
    F8_E4M3 = 7,
    /// <summary>FP8 E8M0, the MX scale type (<c>F8_E8M0</c>).</summary>
    F8_E8M0 = 8,
    /// <summary>FP8 E4M3 fnuz (<c>F8_E4M3FNUZ</c>).</summary>
    F8_E4M3FNUZ = 9,
    /// <summary>FP8 E5M2 fnuz (<c>F8_E5M2FNUZ</c>).</summary>
    F8_E5M2FNUZ = 10,
    /// <summary>Signed 16-bit integer (<c>I16</c>).</summary>
    I16 = 11,
    /// <summary>Unsigned 16-bit integer (<c>U16</c>).</summary>
    U16 = 12,
    /// <summary>IEEE 754 half precision (<c>F16</c>).</summary>
    F16 = 13,
    /// <summary>bfloat16 (<c>BF16</c>).</summary>
    BF16 = 14,
    /// <summary>Signed 32-bit integer (<c>I32</c>).</summary>
    I32 = 15,
    /// <summary>Unsigned 32-bit integer (<c>U32</c>).</summary>
    U32 = 16,
    /// <summary>IEEE 754 single precision (<c>F32</c>).</summary>
    F32 = 17,
    /// <summary>Complex number of two F32 parts (<c>C64</c>).</summary>
    C64 = 18,
    /// <summary>IEEE 754 double precision (<c>F64</c>).</summary>
    F64 = 19,
    /// <summary>Signed 64-bit integer (<c>I64</c>).</summary>
    I64 = 20,
    /// <summary>Unsigned 64-bit integer (<c>U64</c>).</summary>
    U64 = 21,
}
