using System.Runtime.InteropServices;
using Z4Ai.Internal;

namespace Z4Ai;

/// <summary>
/// A tensor in memory: a dtype, a shape and its little-endian, row-major bytes, exactly as safetensors stores them.
/// </summary>
public sealed class Tensor
{
    private readonly long[] _shape;

    /// <summary>Creates a tensor over existing bytes (no copy).</summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The dimensions; an empty shape is a scalar.</param>
    /// <param name="data">The bytes; the length must equal the element count times the dtype bit size / 8.</param>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    /// <exception cref="Z4AiFormatException">The data length does not match (<see cref="Z4AiErrorKind.InvalidTensorView"/>),
    /// or the shape's size overflows or is not a whole number of bytes.</exception>
    public Tensor(DType dtype, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        _ = dtype.BitSize();
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
        }

        ulong expected = ShapeMath.GetByteLength(dtype, shape, tensorName: null);
        if ((ulong)data.Length != expected)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidTensorView,
                $"a {dtype.GetName()} tensor of shape [{string.Join(",", shape.ToArray())}] needs {expected} bytes, got {data.Length}");
        }

        DType = dtype;
        _shape = shape.ToArray();
        Data = data;
    }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>The raw little-endian bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The number of elements (1 for a scalar, 0 when any dimension is 0).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in _shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>Returns the shape as a new array.</summary>
    public long[] GetShape() => (long[])_shape.Clone();

    /// <summary>Views the bytes as elements of <typeparamref name="T"/> without copying.</summary>
    /// <typeparam name="T">An unmanaged type whose size equals the dtype's element size (e.g. <see cref="float"/> for F32,
    /// <see cref="Half"/> or <see cref="ushort"/> for F16/BF16).</typeparam>
    /// <exception cref="InvalidOperationException">The size of <typeparamref name="T"/> does not match the dtype.</exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        if (size != DType.ElementSize())
        {
            throw new InvalidOperationException(
                $"cannot view a {DType.GetName()} tensor as {typeof(T).Name}: element size {DType.ElementSize()} bytes, type size {size} bytes");
        }

        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    /// <summary>Copies the elements into a new array of <typeparamref name="T"/>.</summary>
    public T[] ToArray<T>()
        where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>Widens F32, F16 and BF16 tensors to a new <see cref="float"/> array.</summary>
    /// <exception cref="InvalidOperationException">The dtype is not F32, F16 or BF16.</exception>
    public float[] ToSingleArray()
    {
        ReadOnlySpan<byte> bytes = Data.Span;
        switch (DType)
        {
            case DType.F32:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case DType.F16:
            {
                ReadOnlySpan<Half> halves = MemoryMarshal.Cast<byte, Half>(bytes);
                var result = new float[halves.Length];
                for (int i = 0; i < halves.Length; i++)
                {
                    result[i] = (float)halves[i];
                }

                return result;
            }

            case DType.BF16:
            {
                ReadOnlySpan<ushort> raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                var result = new float[raw.Length];
                for (int i = 0; i < raw.Length; i++)
                {
                    result[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                }

                return result;
            }

            default:
                throw new InvalidOperationException($"cannot widen a {DType.GetName()} tensor to float");
        }
    }

    /// <summary>Creates a tensor from typed values (the bytes are copied, little-endian).</summary>
    public static Tensor FromArray<T>(DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        byte[] bytes = MemoryMarshal.AsBytes(values).ToArray();
        return new Tensor(dtype, shape, bytes);
    }

    /// <inheritdoc />
    public override string ToString() => $"{DType.GetName()}[{string.Join(",", _shape)}]";
}
