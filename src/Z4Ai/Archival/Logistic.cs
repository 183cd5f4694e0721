using System.Runtime.CompilerServices;

namespace Z4Ai.Archival;

/// <summary>
/// The logistic pair used by every model stage, in 12-bit fixed point: <c>Squash(d) = 4096 / (1 + e^(-d/256))</c>
/// maps a stretched value in [-2047, 2047] to a probability in [1, 4095], and <c>Stretch</c> is its inverse.
/// </summary>
/// <remarks>
/// No floating point is involved at any time: the 33 anchor values below are the logistic function rounded at
/// d = -2048, -1920, ..., 2048 (checked in), the full squash table is their linear interpolation in integers and
/// the stretch table is the exact inverse found by scanning. A test pins the SHA-256 of both tables, because a
/// change to a single entry changes every archive written with the model.
/// </remarks>
internal static class Logistic
{
    /// <summary>The largest stretched magnitude.</summary>
    public const int StretchLimit = 2047;

    private static readonly int[] Anchors =
    [
        1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048,
        2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
    ];

    // Indexed by d + 2048 for d in [-2048, 2047].
    private static readonly short[] SquashTable = BuildSquash();

    // Indexed by a 12-bit probability.
    private static readonly short[] StretchTable = BuildStretch();

    /// <summary>The squash table, d + 2048 to probability (exposed for the table-hash test).</summary>
    internal static ReadOnlySpan<short> SquashValues => SquashTable;

    /// <summary>The stretch table, probability to d (exposed for the table-hash test).</summary>
    internal static ReadOnlySpan<short> StretchValues => StretchTable;

    /// <summary>The probability (1..4095) for a stretched value; inputs beyond ±2047 saturate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Squash(int d)
    {
        if (d > StretchLimit)
        {
            d = StretchLimit;
        }
        else if (d < -StretchLimit)
        {
            d = -StretchLimit;
        }

        return Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(SquashTable), d + 2048);
    }

    /// <summary>The stretched value (-2047..2047) of a 12-bit probability (0..4095).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Stretch(int p) =>
        Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(StretchTable), p & 4095);

    private static short[] BuildSquash()
    {
        var table = new short[4096];
        for (int i = 0; i < 4096; i++)
        {
            int d = i - 2048;
            int k = (d >> 7) + 16;
            int w = d & 127;
            int v = ((Anchors[k] * (128 - w)) + (Anchors[k + 1] * w) + 64) >> 7;
            table[i] = (short)Math.Clamp(v, 1, 4095);
        }

        return table;
    }

    private static short[] BuildStretch()
    {
        // Each probability maps to the smallest d whose squash reaches it; probabilities above squash(2047) map
        // to 2047. This makes Squash(Stretch(p)) the closest representable value and Stretch monotone.
        var table = new short[4096];
        int next = 0;
        for (int d = -StretchLimit; d <= StretchLimit; d++)
        {
            int v = SquashTable[d + 2048];
            for (int p = next; p <= v; p++)
            {
                table[p] = (short)d;
            }

            next = Math.Max(next, v + 1);
        }

        for (int p = next; p < 4096; p++)
        {
            table[p] = StretchLimit;
        }

        return table;
    }
}
