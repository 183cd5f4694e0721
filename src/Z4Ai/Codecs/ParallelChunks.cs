using System.Runtime.ExceptionServices;

namespace Z4Ai.Codecs;

/// <summary>Runs per-chunk work on worker threads and lets the first failure out as itself, not wrapped.</summary>
internal static class ParallelChunks
{
    /// <summary>Calls <paramref name="body"/> for 0 .. <paramref name="count"/> - 1 on up to <paramref name="parallelism"/> threads.</summary>
    public static void For(int count, int parallelism, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, body);
        }
        catch (AggregateException ex)
        {
            // A corrupt chunk must surface as the library's own exception, as it would on one thread.
            ExceptionDispatchInfo.Capture(ex.Flatten().InnerExceptions[0]).Throw();
        }
    }

    /// <summary>
    /// Calls <paramref name="body"/> for 0 .. <paramref name="count"/> - 1 on up to <paramref name="parallelism"/>
    /// threads (the caller's among them), and <paramref name="inOrder"/> on the calling thread for each index in
    /// ascending order as soon as its <paramref name="body"/> has finished: a serial pass over the results (a
    /// SHA-256 of the decoded bytes) overlaps the work on the chunks after it instead of waiting for all of them.
    /// </summary>
    /// <remarks>The caller prefers <paramref name="inOrder"/> and only takes a chunk itself when the next result is
    /// not ready, so the serial pass never waits behind work a worker could do. Every worker has stopped before this
    /// returns or throws (callers may hand workers pointers into pinned memory); the first failure is rethrown as
    /// itself and no further chunk is started after it.</remarks>
    public static void ForOrdered(int count, int parallelism, Action<int> body, Action<int> inOrder)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(inOrder);
        if (parallelism <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
                inOrder(i);
            }

            return;
        }

        var state = new OrderedState(count, body);
        int workers = Math.Min(parallelism, count) - 1;
        var tasks = new Task[workers];
        for (int w = 0; w < workers; w++)
        {
            tasks[w] = Task.Factory.StartNew(state.Work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }

        try
        {
            for (int next = 0; next < count; next++)
            {
                while (!state.IsDone(next))
                {
                    // Not ready: do a chunk meanwhile, or wait when every chunk has been taken.
                    if (!state.TryRunOne())
                    {
                        state.WaitFor(next);
                    }
                }

                inOrder(next);
            }
        }
        catch
        {
            state.Stop();
            throw;
        }
        finally
        {
            // Workers may still be writing through the caller's pointers: let them finish first.
            Task.WaitAll(tasks);
        }
    }

    /// <summary>The shared state of <see cref="ForOrdered"/>: the next index to take and which ones are finished.</summary>
    private sealed class OrderedState
    {
        private readonly int _count;
        private readonly Action<int> _body;
        private readonly bool[] _done;
        private readonly object _gate = new();
        private int _next = -1;
        private ExceptionDispatchInfo? _failure;
        private volatile bool _stopped;

        public OrderedState(int count, Action<int> body)
        {
            _count = count;
            _body = body;
            _done = new bool[count];
        }

        public bool IsDone(int index) => Volatile.Read(ref _done[index]);

        public void Stop() => _stopped = true;

        public void Work()
        {
            while (!_stopped && TryRunOne())
            {
            }
        }

        /// <summary>Takes the next unstarted index and runs it; false when none is left or a chunk failed (the
        /// failure is rethrown by <see cref="WaitFor"/>).</summary>
        public bool TryRunOne()
        {
            if (_stopped)
            {
                return false;
            }

            int index = Interlocked.Increment(ref _next);
            if (index >= _count)
            {
                return false;
            }

            try
            {
                _body(index);
            }
            catch (Exception ex)
            {
                lock (_gate)
                {
                    _failure ??= ExceptionDispatchInfo.Capture(ex);
                    _stopped = true;
                    Monitor.PulseAll(_gate);
                }

                return false;
            }

            lock (_gate)
            {
                Volatile.Write(ref _done[index], true);
                Monitor.PulseAll(_gate);
            }

            return true;
        }

        /// <summary>Blocks until <paramref name="index"/> is finished; rethrows the first failure.</summary>
        public void WaitFor(int index)
        {
            lock (_gate)
            {
                while (!_done[index] && !_stopped)
                {
                    Monitor.Wait(_gate);
                }
            }

            _failure?.Throw();
        }
    }
}
