using System.Runtime.InteropServices;

namespace Z4Ai.Runtime;

/// <summary>
/// Unmanaged memory for one cached tensor. The cache frees it the moment a tensor is evicted, so the process's
/// resident memory follows the budget instead of waiting for a garbage collection of large-object-heap arrays;
/// the finalizer frees it if a leaked lease never gives it back.
/// </summary>
internal sealed unsafe class NativeTensorBuffer : SafeHandle
{
    private readonly long _length;

    private NativeTensorBuffer(long length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _length = length;
        if (length > 0)
        {
            SetHandle((IntPtr)NativeMemory.Alloc((nuint)length));
        }
    }

    /// <summary>The buffer length in bytes.</summary>
    public long Length => _length;

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero && _length > 0;

    /// <summary>Allocates <paramref name="length"/> bytes (uninitialised); zero bytes allocate nothing.</summary>
    /// <exception cref="OutOfMemoryException">The allocation failed.</exception>
    public static NativeTensorBuffer Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Array.MaxLength);
        return new NativeTensorBuffer(length);
    }

    /// <summary>The whole buffer. Valid only while the buffer is not disposed.</summary>
    public Span<byte> Span => _length == 0 ? Span<byte>.Empty : new Span<byte>((void*)handle, (int)_length);

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        if (handle != IntPtr.Zero)
        {
            NativeMemory.Free((void*)handle);
        }

        return true;
    }
}
