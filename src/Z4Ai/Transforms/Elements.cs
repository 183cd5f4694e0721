using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Z4Ai.Transforms;

/// <summary>
/// Little-endian load and store of one element of a fixed byte width, as a static-abstract trait so the loops in
/// the transforms are specialised per width by the JIT instead of switching per element.
/// </summary>
internal interface IElementAccess
{
    /// <summary>Bytes per element: 1, 2, 4 or 8.</summary>
    static abstract int Size { get; }

    /// <summary>Loads the element at <paramref name="source"/>, zero-extended.</summary>
    static abstract ulong Load(ref byte source);

    /// <summary>Stores the low <see cref="Size"/> bytes of <paramref name="value"/> at <paramref name="destination"/>.</summary>
    static abstract void Store(ref byte destination, ulong value);
}

/// <summary>One-byte elements.</summary>
internal readonly struct Element1 : IElementAccess
{
    public static int Size => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(ref byte source) => source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref byte destination, ulong value) => destination = (byte)value;
}

/// <summary>Two-byte little-endian elements.</summary>
internal readonly struct Element2 : IElementAccess
{
    public static int Size => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(ref byte source)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(ref source);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref byte destination, ulong value) =>
        Unsafe.WriteUnaligned(ref destination, BitConverter.IsLittleEndian ? (ushort)value : BinaryPrimitives.ReverseEndianness((ushort)value));
}

/// <summary>Four-byte little-endian elements.</summary>
internal readonly struct Element4 : IElementAccess
{
    public static int Size => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(ref byte source)
    {
        uint v = Unsafe.ReadUnaligned<uint>(ref source);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref byte destination, ulong value) =>
        Unsafe.WriteUnaligned(ref destination, BitConverter.IsLittleEndian ? (uint)value : BinaryPrimitives.ReverseEndianness((uint)value));
}

/// <summary>Eight-byte little-endian elements.</summary>
internal readonly struct Element8 : IElementAccess
{
    public static int Size => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(ref byte source)
    {
        ulong v = Unsafe.ReadUnaligned<ulong>(ref source);
        return BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref byte destination, ulong value) =>
        Unsafe.WriteUnaligned(ref destination, BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value));
}

/// <summary>Span helpers over <see cref="IElementAccess"/> and small facts shared by the transforms.</summary>
internal static class Elements
{
    /// <summary>Values are processed in blocks of this many elements: a multiple of 8, so every block of packed
    /// values starts on a byte boundary, and small enough for stack scratch.</summary>
    public const int BlockLength = 1024;

    /// <summary>Loads element <paramref name="index"/> of <paramref name="data"/> without a bounds check: every caller
    /// validates lengths once up front (the assertion re-checks each access in debug builds and tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get<TE>(ReadOnlySpan<byte> data, int index)
        where TE : struct, IElementAccess
    {
        Debug.Assert(index >= 0 && ((long)index + 1) * TE.Size <= data.Length, "element index out of range");
        return TE.Load(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), (nint)index * TE.Size));
    }

    /// <summary>Stores element <paramref name="index"/> of <paramref name="data"/> without a bounds check (see <see cref="Get{TE}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set<TE>(Span<byte> data, int index, ulong value)
        where TE : struct, IElementAccess
    {
        Debug.Assert(index >= 0 && ((long)index + 1) * TE.Size <= data.Length, "element index out of range");
        TE.Store(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), (nint)index * TE.Size), value);
    }

    /// <summary>Loads one element of any width 1..8 (slow path, for parameters and tests).</summary>
    public static ulong Read(ReadOnlySpan<byte> bytes, int size)
    {
        ulong v = 0;
        for (int i = size - 1; i >= 0; i--)
        {
            v = (v << 8) | bytes[i];
        }

        return v;
    }

    /// <summary>Stores the low <paramref name="size"/> bytes of <paramref name="value"/> (slow path).</summary>
    public static void Write(Span<byte> bytes, int size, ulong value)
    {
        for (int i = 0; i < size; i++)
        {
            bytes[i] = (byte)(value >> (8 * i));
        }
    }

    /// <summary>A mask of the low <paramref name="bits"/> bits (0..64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong LowMask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>Sign-extends the low <paramref name="bits"/> bits of <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SignExtend(ulong value, int bits) => bits >= 64 ? (long)value : ((long)(value << (64 - bits))) >> (64 - bits);

    /// <summary>True for dtypes that store a sign bit in the top bit of each element, so the "total order" key that
    /// flips negative values sorts them by numeric value.</summary>
    public static bool IsSignMagnitudeFloat(DType dtype) => dtype is DType.F16 or DType.BF16 or DType.F32 or DType.F64
        or DType.F8_E4M3 or DType.F8_E5M2 or DType.F8_E4M3FNUZ or DType.F8_E5M2FNUZ;

    /// <summary>True for the two's-complement integer dtypes.</summary>
    public static bool IsSignedInteger(DType dtype) => dtype is DType.I8 or DType.I16 or DType.I32 or DType.I64;

    /// <summary>True for the unsigned integer dtypes (BOOL excluded).</summary>
    public static bool IsUnsignedInteger(DType dtype) => dtype is DType.U8 or DType.U16 or DType.U32 or DType.U64;
}
