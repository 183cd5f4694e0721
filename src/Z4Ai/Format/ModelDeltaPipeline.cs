using System.Runtime.ExceptionServices;

namespace Z4Ai.Format;

/// <summary>
/// Runs work items on the thread pool, at most <c>window</c> at a time, and commits their results in the order they
/// were added, on the calling thread. This is how model-delta reading and writing use several cores while reading
/// and writing files front to back with memory for only a few items.
/// </summary>
/// <typeparam name="T">The item, which carries its own buffers.</typeparam>
internal sealed class ModelDeltaPipeline<T>(int window)
{
    private readonly Queue<Task<T>> _pending = new();

    /// <summary>
    /// Queues <paramref name="item"/> to be transformed by <paramref name="work"/> (null: it is ready as it is), first
    /// committing the oldest item if the window is full. With a window of 1 the work runs right here.
    /// </summary>
    public void Add(T item, Func<T, T>? work, Action<T> commit)
    {
        if (_pending.Count >= window)
        {
            commit(Next());
        }

        if (work is null)
        {
            _pending.Enqueue(Task.FromResult(item));
        }
        else if (window <= 1)
        {
            _pending.Enqueue(Task.FromResult(work(item)));
        }
        else
        {
            _pending.Enqueue(Task.Run(() => work(item), CancellationToken.None));
        }
    }

    /// <summary>Commits every item still queued, in order.</summary>
    public void Drain(Action<T> commit)
    {
        while (_pending.Count > 0)
        {
            commit(Next());
        }
    }

    /// <summary>After a failure: waits for the work still running and releases every result (failures are ignored).</summary>
    public void Abandon(Action<T> release)
    {
        while (_pending.Count > 0)
        {
            Task<T> task = _pending.Dequeue();
            try
            {
                release(task.GetAwaiter().GetResult());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The first failure is the one reported; a failed work item released its own buffers.
            }
        }
    }

    private T Next()
    {
        Task<T> task = _pending.Dequeue();
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (AggregateException ex)
        {
            ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
            throw;
        }
    }
}
