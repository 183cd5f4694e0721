using System.Collections.Concurrent;
using Z4Ai.Runtime;

namespace Z4Ai.Tests.Runtime;

/// <summary>
/// An in-memory <see cref="IVerifiedTensorStore"/> for cache tests: counts reads, can hold reads at a gate, fail a
/// tensor as an integrity error, and records how many reads ran at once.
/// </summary>
internal sealed class MemoryTensorStore : IVerifiedTensorStore
{
    private readonly Dictionary<string, byte[]> _data = new(StringComparer.Ordinal);
    private readonly List<TensorInfo> _tensors = [];
    private int _running;

    public MemoryTensorStore(params (string Name, int Length)[] tensors)
    {
        int seed = 1;
        foreach ((string name, int length) in tensors)
        {
            byte[] bytes = new byte[length];
            new Random(seed++).NextBytes(bytes);
            _data[name] = bytes;
            _tensors.Add(new TensorInfo(name, DType.U8, [length], length));
        }
    }

    public string? DisplayName => "memory";

    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    public IReadOnlyDictionary<string, string>? Metadata => null;

    public ConcurrentDictionary<string, int> Reads { get; } = new(StringComparer.Ordinal);

    /// <summary>Reads wait for this gate (set by default).</summary>
    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    /// <summary>Signalled whenever a read starts.</summary>
    public SemaphoreSlim ReadStarted { get; } = new(0);

    public ConcurrentDictionary<string, bool> Corrupt { get; } = new(StringComparer.Ordinal);

    public int MaxConcurrentReads { get; private set; }

    public bool Disposed { get; private set; }

    public byte[] Expected(string name) => _data[name];

    public TensorVerification GetVerification(string name) => TensorVerification.RecordedDigest;

    public void ReadVerified(TensorInfo tensor, Span<byte> destination)
    {
        Reads.AddOrUpdate(tensor.Name, 1, (_, n) => n + 1);
        int running = Interlocked.Increment(ref _running);
        lock (_data)
        {
            MaxConcurrentReads = Math.Max(MaxConcurrentReads, running);
        }

        ReadStarted.Release();
        try
        {
            Gate.Wait(TimeSpan.FromSeconds(20));
            _data[tensor.Name].CopyTo(destination);
            if (Corrupt.ContainsKey(tensor.Name))
            {
                destination[0] ^= 1;
                throw new Z4AiIntegrityException(tensor.Name, new string('0', 64), new string('1', 64), "memory");
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    public void Dispose() => Disposed = true;
}
