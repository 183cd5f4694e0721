using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The chunk scheduler where the earlier tests leave room: a plain loop asked for one thread runs every body on one
/// thread at a time (the parallelism option is what limits it), and the ordered loop with workers gives each index to
/// exactly one body and passes them in order even when the bodies finish out of order.
/// Written against Stryker's surviving mutants in <see cref="ParallelChunks"/>.
/// </summary>
public class CodecParallelChunksMutationTests
{
    [Test]
    public void For_ParallelismOne_NeverRunsTwoBodiesAtOnce()
    {
        // Without the limit the loop also takes pool threads: with 40 bodies of 5 ms each some would overlap.
        int running = 0;
        int most = 0;
        int[] runs = new int[40];
        ParallelChunks.For(40, 1, i =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(5);
            Interlocked.Increment(ref runs[i]);
            Interlocked.Decrement(ref running);
        });
        Assert.That(runs, Is.All.EqualTo(1));
        Assert.That(most, Is.EqualTo(1));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
