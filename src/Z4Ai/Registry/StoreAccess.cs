namespace Z4Ai.Registry;

/// <summary>
/// Synchronous access to an <see cref="IBlobStore"/> for the registry's CPU-bound code, counting the bytes read.
/// The local store completes every call synchronously, so nothing blocks; a remote store's call blocks the calling
/// thread (never a captured context: stores are expected to use ConfigureAwait(false)).
/// </summary>
internal sealed class StoreAccess
{
    private long _bytesRead;

    public StoreAccess(IBlobStore store)
    {
        Store = store;
    }

    public IBlobStore Store { get; }

    public string Location => Store.Location;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public string Describe(string key) => Location.TrimEnd('/', '\\') + "/" + key;

    public BlobInfo? GetInfo(string key, CancellationToken ct = default) => Wait(Store.GetInfoAsync(key, ct));

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="Z4AiFormatException">The blob is missing or shorter than expected.</exception>
    public void ReadExactly(string key, long offset, Memory<byte> destination, CancellationToken ct = default)
    {
        int read;
        try
        {
            read = Wait(Store.ReadAsync(key, offset, destination, ct));
        }
        catch (KeyNotFoundException ex)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.InvalidContainer, "the blob is missing from the store", Describe(key), innerException: ex);
        }

        Interlocked.Add(ref _bytesRead, read);
        if (read != destination.Length)
        {
            throw new Z4AiFormatException(
                Z4AiErrorKind.InvalidContainer,
                $"the blob ended after {offset + read} bytes; {offset + destination.Length} were expected (it shrank while in use)",
                Describe(key),
                offset: offset + read);
        }
    }

    /// <summary>Reads a whole blob of at most <paramref name="maxLength"/> bytes, or returns null when it is missing.</summary>
    public byte[]? TryReadAll(string key, long maxLength, CancellationToken ct = default)
    {
        BlobInfo? info = GetInfo(key, ct);
        if (info is null)
        {
            return null;
        }

        if (info.Length > maxLength)
        {
            throw new Z4AiFormatException(Z4AiErrorKind.LimitExceeded, $"the blob is {info.Length} bytes, more than the {maxLength} allowed", Describe(key));
        }

        byte[] data = GC.AllocateUninitializedArray<byte>((int)info.Length);
        try
        {
            ReadExactly(key, 0, data, ct);
        }
        catch (Z4AiFormatException) when (GetInfo(key, ct) is null)
        {
            // Deleted between the two calls.
            return null;
        }

        return data;
    }

    public bool PutIfAbsent(string key, Func<Stream, CancellationToken, ValueTask> write, CancellationToken ct = default) =>
        Wait(Store.PutIfAbsentAsync(key, write, ct));

    public bool PutIfAbsent(string key, ReadOnlyMemory<byte> content, CancellationToken ct = default) =>
        PutIfAbsent(key, (stream, token) => stream.WriteAsync(content, token), ct);

    public List<BlobInfo> List(string prefix, CancellationToken ct = default) => [.. Store.ListAsync(prefix, ct).ToBlockingEnumerable(ct)];

    public bool Delete(string key, CancellationToken ct = default) => Wait(Store.DeleteAsync(key, ct));

    public void Touch(string key, CancellationToken ct = default) => Wait(Store.TouchAsync(key, ct));

    /// <summary>
    /// Takes the registry lock, retrying until <paramref name="timeout"/> passes; the result is disposed to release it.
    /// </summary>
    /// <exception cref="Z4AiRegistryException">Another process kept the lock (<see cref="Z4AiErrorKind.Conflict"/>).</exception>
    public IDisposable Lock(bool exclusive, TimeSpan timeout, string operation, CancellationToken ct)
    {
        long deadline = Environment.TickCount64 + (long)Math.Max(0, timeout.TotalMilliseconds);
        int delay = 20;
        while (true)
        {
            IAsyncDisposable? handle = Wait(Store.TryLockAsync(RegistryLayout.LockName, exclusive, ct));
            if (handle is not null)
            {
                return new Releaser(handle);
            }

            if (Environment.TickCount64 >= deadline)
            {
                string holder = exclusive ? "another process is adding a version or collecting garbage" : "another process is collecting garbage";
                throw new Z4AiRegistryException(
                    Z4AiErrorKind.Conflict,
                    $"cannot {operation}: {holder} in {Location}; try again later (waited {timeout.TotalSeconds:0.#} s)",
                    null);
            }

            ct.WaitHandle.WaitOne(delay);
            ct.ThrowIfCancellationRequested();
            delay = Math.Min(delay * 2, 250);
        }
    }

    private static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
    }

    private sealed class Releaser(IAsyncDisposable handle) : IDisposable
    {
        private IAsyncDisposable? _handle = handle;

        public void Dispose()
        {
            IAsyncDisposable? h = Interlocked.Exchange(ref _handle, null);
            if (h is not null)
            {
                Wait(h.DisposeAsync());
            }
        }
    }
}
