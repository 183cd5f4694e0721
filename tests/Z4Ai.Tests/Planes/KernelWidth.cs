using System.Runtime.Intrinsics;
using NUnit.Framework;

namespace Z4Ai.Tests.Planes;

/// <summary>The vector widths a kernel has a dedicated method for.</summary>
public enum KernelWidth
{
    Vector128,
    Vector256,
    Vector512,
}

internal static class KernelWidths
{
    /// <summary>Element counts around every vector boundary (16, 32 and 64 elements per block), plus larger odd ones.</summary>
    public static readonly int[] AwkwardCounts =
        [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 511, 512, 513, 1000, 4099];

    public static bool IsAccelerated(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => Vector128.IsHardwareAccelerated,
        KernelWidth.Vector256 => Vector256.IsHardwareAccelerated,
        _ => Vector512.IsHardwareAccelerated,
    };

    public static int BlockElements(KernelWidth width) => width switch
    {
        KernelWidth.Vector128 => Vector128<byte>.Count,
        KernelWidth.Vector256 => Vector256<byte>.Count,
        _ => Vector512<byte>.Count,
    };

    /// <summary>Skips the test, with the reason, when this width would run in software emulation only.</summary>
    public static void RequireAccelerated(KernelWidth width)
    {
        if (!IsAccelerated(width))
        {
            Assert.Ignore($"{width} is not hardware accelerated on this machine or under this DOTNET_Enable* setting; its dedicated test is skipped (the software-emulation test still covers the method).");
        }
    }

    public static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
