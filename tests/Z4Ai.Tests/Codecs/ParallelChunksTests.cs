using System.Collections.Concurrent;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Codecs;

namespace Z4Ai.Tests.Codecs;

/// <summary>The ordered chunk pipeline: every body runs once, the in-order pass sees each index once, ascending and
/// only after its body, and the first failure comes out as itself with no worker left running.</summary>
public class ParallelChunksTests
{
    [Test]
    public void ForOrdered_AnyCountAndParallelism_RunsEachBodyOnceAndVisitsInOrderAfterIt()
    {
        Prop.ForAll(Gen.Choose(0, 40).ToArbitrary(), Gen.Choose(1, 4).ToArbitrary(), (count, parallelism) =>
        {
            int[] runs = new int[count];
            var finished = new bool[count];
            var order = new List<int>();
            bool afterBody = true;
            ParallelChunks.ForOrdered(
                count,
                parallelism,
                i =>
                {
                    Interlocked.Increment(ref runs[i]);
                    Thread.SpinWait(50 * ((i * 7) % 5));
                    Volatile.Write(ref finished[i], true);
                },
                i =>
                {
                    afterBody &= Volatile.Read(ref finished[i]);
                    order.Add(i);
                });
            return afterBody && runs.All(r => r == 1) && order.SequenceEqual(Enumerable.Range(0, count));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(100));
    }

    [Test]
    public void ForOrdered_BodyThrows_RethrowsThatExceptionAfterEveryWorkerStopped()
    {
        foreach (int failing in new[] { 0, 1, 5, 11 })
        {
            int running = 0;
            var visited = new ConcurrentBag<int>();
            var ex = Assert.Throws<Z4AiFormatException>(() => ParallelChunks.ForOrdered(
                12,
                3,
                i =>
                {
                    Interlocked.Increment(ref running);
                    try
                    {
                        Thread.Sleep(2);
                        if (i == failing)
                        {
                            throw new Z4AiFormatException(Z4AiErrorKind.CorruptFrame, $"chunk {i}");
                        }
                    }
                    finally
                    {
                        Interlocked.Decrement(ref running);
                    }
                },
                visited.Add));
            Assert.That(ex!.Message, Does.Contain($"chunk {failing}"));
            Assert.That(Volatile.Read(ref running), Is.Zero, "a worker was still running when the exception left");
            Assert.That(visited, Has.None.GreaterThanOrEqualTo(failing), "an index at or after the failure was passed on");
        }
    }

    [Test]
    public void ForOrdered_InOrderThrows_RethrowsItAfterEveryWorkerStopped()
    {
        int running = 0;
        Assert.Throws<InvalidOperationException>(() => ParallelChunks.ForOrdered(
            20,
            2,
            _ =>
            {
                Interlocked.Increment(ref running);
                Thread.Sleep(1);
                Interlocked.Decrement(ref running);
            },
            i =>
            {
                if (i == 3)
                {
                    throw new InvalidOperationException("consumer");
                }
            }));
        Assert.That(Volatile.Read(ref running), Is.Zero);
    }
}
