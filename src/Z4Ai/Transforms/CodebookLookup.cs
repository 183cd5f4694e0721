using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Z4Ai.Transforms;

/// <summary>
/// Byte-wide palette indices into a codebook of at most 16 entries, expanded with byte shuffles: each byte position of
/// an entry is a 16-byte table, one shuffle looks up that byte for 16 (or 32) indices, and widening interleaves the
/// byte positions into elements.
/// </summary>
/// <remarks>
/// A sparse step stream (most elements unchanged, a few steps of one to three units) is a global palette of a handful
/// of entries; looking each element up one at a time was a quarter of such a delta's decode time. The vector paths
/// stop before the first block holding an index at or above the entry count, so the caller's scalar loop reaches that
/// index and reports it with its exact element; little-endian only, like the element accessors' fast path.
/// </remarks>
internal static class CodebookLookup
{
    /// <summary>The most entries a shuffle table holds.</summary>
    public const int MaxEntries = 16;

    /// <summary>The instruction sets a lookup may use, so tests can pin each path against the scalar oracle.</summary>
    internal enum Path
    {
        Scalar,
        Vector128,
        Avx2,
    }

    /// <summary>The fastest path this machine runs.</summary>
    internal static Path Best =>
        !BitConverter.IsLittleEndian ? Path.Scalar
        : Avx2.IsSupported ? Path.Avx2
        : Vector128.IsHardwareAccelerated ? Path.Vector128
        : Path.Scalar;

    /// <summary>Whether <see cref="Expand"/> takes a vector path for this element size and codebook.</summary>
    public static bool Applies(int elementSize, int entries) =>
        elementSize is 1 or 2 or 4 && entries is > 0 and <= MaxEntries;

    /// <summary>
    /// Expands the longest prefix of <paramref name="indices"/> that whole vector blocks with every index below
    /// <paramref name="entries"/> cover, and returns its length; the rest is the caller's.
    /// </summary>
    /// <param name="indices">One byte per element.</param>
    /// <param name="codebook">The entries, <paramref name="elementSize"/> little-endian bytes each.</param>
    /// <param name="entries">How many entries <paramref name="codebook"/> holds (at most <see cref="MaxEntries"/>).</param>
    /// <param name="elementSize">1, 2 or 4.</param>
    /// <param name="destination">At least <c>indices.Length * elementSize</c> bytes.</param>
    /// <param name="path">The instruction set to use; <see cref="Best"/> outside tests.</param>
    public static int Expand(
        ReadOnlySpan<byte> indices, ReadOnlySpan<byte> codebook, int entries, int elementSize, Span<byte> destination, Path path)
    {
        if (!Applies(elementSize, entries) || codebook.Length < entries * elementSize || destination.Length < indices.Length * elementSize)
        {
            throw new ArgumentException("the codebook or destination does not fit a vector lookup");
        }

        // The tables: byte b of entry i at position i of table b; unused positions stay zero and are never selected.
        Span<byte> tables = stackalloc byte[4 * MaxEntries];
        tables.Clear();
        for (int i = 0; i < entries; i++)
        {
            for (int b = 0; b < elementSize; b++)
            {
                tables[(b * MaxEntries) + i] = codebook[(i * elementSize) + b];
            }
        }

        return path switch
        {
            Path.Avx2 when Avx2.IsSupported && BitConverter.IsLittleEndian => ExpandAvx2(indices, tables, (byte)(entries - 1), elementSize, destination),
            Path.Vector128 when Vector128.IsHardwareAccelerated && BitConverter.IsLittleEndian => Expand128(indices, tables, (byte)(entries - 1), elementSize, destination),
            _ => 0,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Expand128(ReadOnlySpan<byte> indices, ReadOnlySpan<byte> tables, byte last, int elementSize, Span<byte> destination)
    {
        ref byte table = ref MemoryMarshal.GetReference(tables);
        Vector128<byte> t0 = Vector128.LoadUnsafe(ref table);
        Vector128<byte> t1 = Vector128.LoadUnsafe(ref table, MaxEntries);
        Vector128<byte> t2 = Vector128.LoadUnsafe(ref table, 2 * MaxEntries);
        Vector128<byte> t3 = Vector128.LoadUnsafe(ref table, 3 * MaxEntries);
        Vector128<byte> limit = Vector128.Create(last);
        ref byte source = ref MemoryMarshal.GetReference(indices);
        ref byte target = ref MemoryMarshal.GetReference(destination);
        int done = 0;
        for (; done + Vector128<byte>.Count <= indices.Length; done += Vector128<byte>.Count)
        {
            Vector128<byte> index = Vector128.LoadUnsafe(ref source, (nuint)done);
            if (Vector128.GreaterThanAny(index, limit))
            {
                break;
            }

            ref byte at = ref Unsafe.Add(ref target, done * elementSize);
            Vector128<byte> b0 = Vector128.Shuffle(t0, index);
            if (elementSize == 1)
            {
                b0.StoreUnsafe(ref at);
                continue;
            }

            (Vector128<ushort> low01, Vector128<ushort> high01) = Widen(b0, Vector128.Shuffle(t1, index));
            if (elementSize == 2)
            {
                low01.AsByte().StoreUnsafe(ref at);
                high01.AsByte().StoreUnsafe(ref at, 16);
                continue;
            }

            (Vector128<ushort> low23, Vector128<ushort> high23) = Widen(Vector128.Shuffle(t2, index), Vector128.Shuffle(t3, index));
            (Vector128<uint> e0, Vector128<uint> e1) = Widen(low01, low23);
            (Vector128<uint> e2, Vector128<uint> e3) = Widen(high01, high23);
            e0.AsByte().StoreUnsafe(ref at);
            e1.AsByte().StoreUnsafe(ref at, 16);
            e2.AsByte().StoreUnsafe(ref at, 32);
            e3.AsByte().StoreUnsafe(ref at, 48);
        }

        return done;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ExpandAvx2(ReadOnlySpan<byte> indices, ReadOnlySpan<byte> tables, byte last, int elementSize, Span<byte> destination)
    {
        // vpshufb looks up within each 128-bit half, so every table is broadcast to both halves.
        ref byte table = ref MemoryMarshal.GetReference(tables);
        Vector256<byte> t0 = Broadcast(ref table, 0);
        Vector256<byte> t1 = Broadcast(ref table, 1);
        Vector256<byte> t2 = Broadcast(ref table, 2);
        Vector256<byte> t3 = Broadcast(ref table, 3);
        Vector256<byte> limit = Vector256.Create(last);
        ref byte source = ref MemoryMarshal.GetReference(indices);
        ref byte target = ref MemoryMarshal.GetReference(destination);
        int done = 0;
        for (; done + Vector256<byte>.Count <= indices.Length; done += Vector256<byte>.Count)
        {
            Vector256<byte> index = Vector256.LoadUnsafe(ref source, (nuint)done);
            if (Vector256.GreaterThanAny(index, limit))
            {
                break;
            }

            ref byte at = ref Unsafe.Add(ref target, done * elementSize);
            Vector256<byte> b0 = Avx2.Shuffle(t0, index);
            if (elementSize == 1)
            {
                b0.StoreUnsafe(ref at);
                continue;
            }

            (Vector256<ushort> low01, Vector256<ushort> high01) = Widen(b0, Avx2.Shuffle(t1, index));
            if (elementSize == 2)
            {
                low01.AsByte().StoreUnsafe(ref at);
                high01.AsByte().StoreUnsafe(ref at, 32);
                continue;
            }

            (Vector256<ushort> low23, Vector256<ushort> high23) = Widen(Avx2.Shuffle(t2, index), Avx2.Shuffle(t3, index));
            (Vector256<uint> e0, Vector256<uint> e1) = Widen(low01, low23);
            (Vector256<uint> e2, Vector256<uint> e3) = Widen(high01, high23);
            e0.AsByte().StoreUnsafe(ref at);
            e1.AsByte().StoreUnsafe(ref at, 32);
            e2.AsByte().StoreUnsafe(ref at, 64);
            e3.AsByte().StoreUnsafe(ref at, 96);
        }

        return done;
    }

    /// <summary>Pairs of bytes (low, high) as 16-bit lanes, in element order: the first half, then the second.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<ushort> First, Vector128<ushort> Second) Widen(Vector128<byte> low, Vector128<byte> high) =>
        (Vector128.WidenLower(low) | (Vector128.WidenLower(high) << 8), Vector128.WidenUpper(low) | (Vector128.WidenUpper(high) << 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<uint> First, Vector128<uint> Second) Widen(Vector128<ushort> low, Vector128<ushort> high) =>
        (Vector128.WidenLower(low) | (Vector128.WidenLower(high) << 16), Vector128.WidenUpper(low) | (Vector128.WidenUpper(high) << 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<ushort> First, Vector256<ushort> Second) Widen(Vector256<byte> low, Vector256<byte> high) =>
        (Vector256.WidenLower(low) | (Vector256.WidenLower(high) << 8), Vector256.WidenUpper(low) | (Vector256.WidenUpper(high) << 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<uint> First, Vector256<uint> Second) Widen(Vector256<ushort> low, Vector256<ushort> high) =>
        (Vector256.WidenLower(low) | (Vector256.WidenLower(high) << 16), Vector256.WidenUpper(low) | (Vector256.WidenUpper(high) << 16));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Broadcast(ref byte tables, int position)
    {
        Vector128<byte> half = Vector128.LoadUnsafe(ref tables, (nuint)(position * MaxEntries));
        return Vector256.Create(half, half);
    }
}
