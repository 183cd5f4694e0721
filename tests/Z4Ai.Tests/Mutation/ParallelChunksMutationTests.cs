using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The chunk scheduler's contract in the cases the property tests leave loose: the failure of a plain parallel loop
/// comes out as itself, no more bodies run at once than asked, the serial path interleaves body and in-order pass
/// on the calling thread, and null delegates are refused by name.
/// </summary>
public class ParallelChunksMutationTests
{
    [Test]
    public void For_BodyThrows_RethrowsThatExceptionNotAnAggregate()
    {
        var ex = Assert.Throws<Z4AiFormatException>(() => ParallelChunks.For(6, 2, i =>
        {
            if (i == 4)
            {
                throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, "chunk 4 is bad");
            }
        }));
        Assert.That(ex!.Message, Is.EqualTo("chunk 4 is bad"));
    }

    [Test]
    public void For_EveryIndexOnce_NeverMoreThanTheParallelismAtOnce()
    {
        int[] runs = new int[12];
        int running = 0;
        int most = 0;
        ParallelChunks.For(12, 2, i =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(3);
            Interlocked.Increment(ref runs[i]);
            Interlocked.Decrement(ref running);
        });
        Assert.That(runs, Is.All.EqualTo(1));
        Assert.That(most, Is.InRange(1, 2));
    }

    [Test]
    public void ForOrdered_NullDelegates_AreRefusedByName()
    {
        var body = Assert.Throws<ArgumentNullException>(() => ParallelChunks.ForOrdered(3, 2, null!, _ => { }));
        Assert.That(body!.ParamName, Is.EqualTo("body"));
        var inOrder = Assert.Throws<ArgumentNullException>(() => ParallelChunks.ForOrdered(3, 2, _ => { }, null!));
        Assert.That(inOrder!.ParamName, Is.EqualTo("inOrder"));
    }

    [TestCase(5, 1)]
    [TestCase(1, 4)]
    [TestCase(0, 4)]
    public void ForOrdered_SerialCases_InterleaveBodyAndInOrderOnTheCallingThread(int count, int parallelism)
    {
        var events = new List<string>();
        int caller = Environment.CurrentManagedThreadId;
        bool elsewhere = false;
        ParallelChunks.ForOrdered(
            count,
            parallelism,
            i =>
            {
                elsewhere |= Environment.CurrentManagedThreadId != caller;
                events.Add($"b{i}");
            },
            i => events.Add($"o{i}"));
        Assert.That(events, Is.EqualTo(Enumerable.Range(0, count).SelectMany(i => new[] { $"b{i}", $"o{i}" })));
        Assert.That(elsewhere, Is.False, "no worker thread for a serial run");
    }

    [Test]
    public void ForOrdered_Parallel_NeverMoreBodiesAtOnceThanTheParallelism()
    {
        int running = 0;
        int most = 0;
        int[] runs = new int[24];
        var order = new List<int>();
        ParallelChunks.ForOrdered(
            24,
            3,
            i =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
                Thread.Sleep(2);
                Interlocked.Increment(ref runs[i]);
                Interlocked.Decrement(ref running);
            },
            order.Add);
        Assert.That(runs, Is.All.EqualTo(1));
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 24)));
        Assert.That(most, Is.InRange(1, 3));
    }

    [Test]
    public void ForOrdered_FirstChunkFails_NoChunkStartsAfterTheFailureIsSeen()
    {
        // Chunk 0 fails at once; with two threads at most the chunks already taken can still run (one each).
        int started = 0;
        var ex = Assert.Throws<InvalidDataException>(() => ParallelChunks.ForOrdered(
            200,
            2,
            i =>
            {
                Interlocked.Increment(ref started);
                if (i == 0)
                {
                    throw new InvalidDataException("first");
                }

                Thread.Sleep(1);
            },
            _ => { }));
        Assert.That(ex!.Message, Is.EqualTo("first"));
        Assert.That(Volatile.Read(ref started), Is.LessThan(200));
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
