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
}
