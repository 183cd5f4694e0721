using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Z4Ai.Runtime;

namespace Z4Ai;

/// <summary>
/// A verified tensor handed out by an <see cref="ITensorSource"/>, pinned in its cache until disposed. The spans
/// point straight into the cache (no copy) and are valid only until <see cref="Dispose"/>: do not keep them, or
/// anything derived from them, past it. A lease may be read from several threads at once.
/// </summary>
public sealed class TensorLease : IDisposable
{
    private readonly TensorCache _cache;
    private readonly CacheEntry _entry;
    private readonly int _threadId;
    private int _disposed;

    internal TensorLease(TensorCache cache, CacheEntry entry, int threadId, TensorVerification verification)
    {
        _cache = cache;
        _entry = entry;
        _threadId = threadId;
        Verification = verification;
    }

    /// <summary>The tensor's name, dtype, shape and length.</summary>
    public TensorInfo Info => _entry.Info;

    /// <summary>The tensor name.</summary>
    public string Name => _entry.Info.Name;

    /// <summary>The element type.</summary>
    public DType DType => _entry.Info.DType;

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<long> Shape => _entry.Info.Shape;

    /// <summary>What the bytes were checked against before this lease was handed out.</summary>
    public TensorVerification Verification { get; }

    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in _entry.Info.Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>The raw little-endian bytes, straight from the cache.</summary>
    /// <exception cref="ObjectDisposedException">The lease is disposed.</exception>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _entry.Buffer.Span;
        }
    }

    /// <summary>Views the bytes as elements of <typeparamref name="T"/> without copying.</summary>
    /// <typeparam name="T">An unmanaged type whose size is the dtype's element size (the buffer is suitably aligned).</typeparam>
    /// <exception cref="InvalidOperationException">The size of <typeparamref name="T"/> is not the element size.</exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (size != DType.ElementSize())
        {
            throw new InvalidOperationException(
                $"cannot view {DType.GetName()} tensor '{Name}' as {typeof(T).Name}: element size {DType.ElementSize()} bytes, type size {size} bytes");
        }

        return MemoryMarshal.Cast<byte, T>(Bytes);
    }

    /// <summary>The elements of an F32 tensor, without copying.</summary>
    /// <exception cref="InvalidOperationException">The dtype is not F32.</exception>
    public ReadOnlySpan<float> AsSingleSpan()
    {
        RequireDType(DType.F32);
        return MemoryMarshal.Cast<byte, float>(Bytes);
    }

    /// <summary>The elements of an F16 tensor, without copying.</summary>
    /// <exception cref="InvalidOperationException">The dtype is not F16.</exception>
    public ReadOnlySpan<Half> AsHalfSpan()
    {
        RequireDType(DType.F16);
        return MemoryMarshal.Cast<byte, Half>(Bytes);
    }

    /// <summary>The raw bit patterns of a BF16 tensor, without copying (widen with <see cref="WidenToSingle"/>).</summary>
    /// <exception cref="InvalidOperationException">The dtype is not BF16.</exception>
    public ReadOnlySpan<ushort> AsBFloat16Bits()
    {
        RequireDType(DType.BF16);
        return MemoryMarshal.Cast<byte, ushort>(Bytes);
    }

    /// <summary>
    /// Widens elements <c>[elementOffset, elementOffset + destination.Length)</c> of an F32, F16 or BF16 tensor to
    /// <see cref="float"/>, exactly (every F16 and BF16 value is a float). Used row by row, it keeps a float copy of
    /// only the part being computed on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The dtype is not F32, F16 or BF16.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the tensor.</exception>
    public void WidenToSingle(long elementOffset, Span<float> destination)
    {
        int elementSize = DType is DType.F32 or DType.F16 or DType.BF16
            ? DType.ElementSize()
            : throw new InvalidOperationException($"cannot widen {DType.GetName()} tensor '{Name}' to float");
        ReadOnlySpan<byte> bytes = Bytes;
        long count = bytes.Length / elementSize;
        ArgumentOutOfRangeException.ThrowIfNegative(elementOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementOffset, count - destination.Length);
        ReadOnlySpan<byte> range = bytes.Slice((int)elementOffset * elementSize, destination.Length * elementSize);
        switch (DType)
        {
            case DType.F32:
                MemoryMarshal.Cast<byte, float>(range).CopyTo(destination);
                break;
            case DType.F16:
                Widening.HalfToSingle(MemoryMarshal.Cast<byte, Half>(range), destination);
                break;
            default:
                Widening.Bf16ToSingle(MemoryMarshal.Cast<byte, ushort>(range), destination);
                break;
        }
    }

    /// <summary>Widens a whole F32, F16 or BF16 tensor into a new float array.</summary>
    /// <exception cref="InvalidOperationException">The dtype is not F32, F16 or BF16.</exception>
    public float[] ToSingleArray()
    {
        if (DType is not (DType.F32 or DType.F16 or DType.BF16))
        {
            throw new InvalidOperationException($"cannot widen {DType.GetName()} tensor '{Name}' to float");
        }

        float[] result = GC.AllocateUninitializedArray<float>(Bytes.Length / DType.ElementSize());
        WidenToSingle(0, result);
        return result;
    }

    /// <summary>Unpins the tensor; the cache may then evict it. Further access throws.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _cache.Release(_entry, _threadId);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"lease of {_entry.Info}";

    private void RequireDType(DType expected)
    {
        if (DType != expected)
        {
            throw new InvalidOperationException($"tensor '{Name}' is {DType.GetName()}, not {expected.GetName()}");
        }
    }
}
