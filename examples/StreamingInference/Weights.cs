using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Z4Ai;

namespace StreamingInference;

/// <summary>Where the forward pass gets its weights: all in memory, or streamed through an <see cref="ITensorSource"/>.</summary>
public interface IWeights : IDisposable
{
    /// <summary>A weight matrix (or vector, as one row), held until the handle is disposed.</summary>
    IWeight Open(string name);

    /// <summary>Hints which weights come next; a streamed source starts decoding them in the background.</summary>
    void Prefetch(IEnumerable<string> names);
}

/// <summary>One BF16 weight, row-major: <see cref="Rows"/> rows of <see cref="Columns"/> values.</summary>
public interface IWeight : IDisposable
{
    long Rows { get; }

    int Columns { get; }

    /// <summary>Widens row <paramref name="row"/> to float, exactly. Safe to call from several threads.</summary>
    void WidenRow(long row, Span<float> destination);
}

/// <summary>Every weight loaded up front with <see cref="SafeTensorsCompat.LoadFile"/> (verified), kept as BF16.</summary>
public sealed class LoadedWeights(IReadOnlyDictionary<string, Tensor> tensors) : IWeights
{
    public IWeight Open(string name) => new Weight(tensors[name]);

    public void Prefetch(IEnumerable<string> names)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Weight(Tensor tensor) : IWeight
    {
        public long Rows => tensor.Shape.Count == 1 ? 1 : tensor.Shape[0];

        public int Columns => (int)tensor.Shape[^1];

        public void WidenRow(long row, Span<float> destination) =>
            Bf16.Widen(MemoryMarshal.Cast<byte, ushort>(tensor.Data.Span).Slice((int)(row * Columns), Columns), destination);

        public void Dispose()
        {
        }
    }
}

/// <summary>Weights streamed from an <see cref="ITensorSource"/>: each handle is a lease, disposed after use.</summary>
public sealed class StreamedWeights(ITensorSource source, bool prefetch) : IWeights
{
    public IWeight Open(string name) => new Weight(source.Acquire(name));

    public void Prefetch(IEnumerable<string> names)
    {
        if (prefetch)
        {
            source.Prefetch(names);
        }
    }

    public void Dispose() => source.Dispose();

    private sealed class Weight(TensorLease lease) : IWeight
    {
        public long Rows => lease.Shape.Count == 1 ? 1 : lease.Shape[0];

        public int Columns => (int)lease.Shape[^1];

        public void WidenRow(long row, Span<float> destination) => lease.WidenToSingle(row * Columns, destination[..Columns]);

        public void Dispose() => lease.Dispose();
    }
}

/// <summary>BF16 to float for the in-memory mode: the upper half of each float, vectorised where possible.</summary>
public static class Bf16
{
    public static void Widen(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        Span<uint> bits = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                (Vector256<uint> lower, Vector256<uint> upper) = Vector256.Widen(Vector256.Create(source.Slice(i, Vector256<ushort>.Count)));
                (lower << 16).CopyTo(bits[i..]);
                (upper << 16).CopyTo(bits[(i + Vector256<uint>.Count)..]);
            }
        }

        for (; i < source.Length; i++)
        {
            bits[i] = (uint)source[i] << 16;
        }
    }
}
