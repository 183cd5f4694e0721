using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Runtime;

namespace Z4Ai.Tests.Runtime;

public class TensorCacheTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static StreamingTensorSource Open(MemoryTensorStore store, long budget, int threads = 2, TimeSpan? leaseWait = null) =>
        new(store, new TensorSourceOptions { CacheBudgetBytes = budget, PrefetchThreads = threads, LeaseWaitTimeout = leaseWait ?? Patience });

    private static void AcquireAndRelease(ITensorSource source, MemoryTensorStore store, string name)
    {
        using TensorLease lease = source.Acquire(name);
        Assert.That(lease.Bytes.SequenceEqual(store.Expected(name)), Is.True, name);
    }

    [Test]
    public void Acquire_RandomAccessPatterns_NeverHoldsMoreThanTheBudget()
    {
        // A pattern: tensor sizes, slack above the largest tensor, then steps (tensor index, how many leases to keep).
        Gen<(int[] Sizes, int Slack, (int Tensor, int Keep, bool Prefetch)[] Steps)> cases =
            from count in Gen.Choose(1, 8)
            from sizes in Gen.Choose(0, 3000).ArrayOf(count)
            from slack in Gen.Choose(0, 4000)
            from steps in (from t in Gen.Choose(0, count - 1)
                           from keep in Gen.Choose(0, 2)
                           from prefetch in Gen.Elements(false, false, false, true)
                           select (t, keep, prefetch)).ArrayOf(40)
            select (sizes, slack, steps);

        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var store = new MemoryTensorStore(c.Sizes.Select((s, i) => ($"t{i}", s)).ToArray());
            long budget = Math.Max(1, c.Sizes.Max()) + c.Slack;
            using StreamingTensorSource source = Open(store, budget, leaseWait: TimeSpan.Zero);
            var held = new Queue<TensorLease>();
            long heldBytes = 0;
            foreach ((int t, int keep, bool prefetch) in c.Steps)
            {
                string name = $"t{t}";
                if (prefetch)
                {
                    source.Prefetch([name, $"t{(t + 1) % c.Sizes.Length}"]);
                }

                // Keep leases only while the one asked for would still fit beside them, so the test never self-blocks.
                while (held.Count > keep || (held.Count > 0 && heldBytes + c.Sizes[t] > budget))
                {
                    TensorLease old = held.Dequeue();
                    heldBytes -= old.Bytes.Length;
                    old.Dispose();
                }

                TensorLease lease = source.Acquire(name);
                if (!lease.Bytes.SequenceEqual(store.Expected(name)))
                {
                    return false;
                }

                held.Enqueue(lease);
                heldBytes += lease.Bytes.Length;
                TensorSourceStatistics s = source.GetStatistics();
                if (s.CachedBytes > budget || s.PeakCachedBytes > budget)
                {
                    return false;
                }
            }

            foreach (TensorLease lease in held)
            {
                lease.Dispose();
            }

            // Prefetches may still wait for room held by prefetched tensors never acquired; disposing stops them.
            return source.GetStatistics().PeakCachedBytes <= budget;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(120));
    }

    [Test]
    public void Acquire_BudgetFull_EvictsTheLeastRecentlyUsed()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100), ("c", 100), ("d", 100));
        using StreamingTensorSource source = Open(store, 300);
        AcquireAndRelease(source, store, "a");
        AcquireAndRelease(source, store, "b");
        AcquireAndRelease(source, store, "c");
        AcquireAndRelease(source, store, "a");
        Assert.That(source.Cache.GetLruOrder(), Is.EqualTo(new[] { "b", "c", "a" }));

        AcquireAndRelease(source, store, "d");
        Assert.That(source.Cache.GetLruOrder(), Is.EqualTo(new[] { "c", "a", "d" }));
        AcquireAndRelease(source, store, "a");
        TensorSourceStatistics stats = source.GetStatistics();
        Assert.That((stats.Hits, stats.Misses, stats.Evictions), Is.EqualTo((2L, 4L, 1L)));
        Assert.That(store.Reads["a"], Is.EqualTo(1));
    }

    [Test]
    public void Acquire_LeasedTensor_IsNeverEvicted()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100), ("c", 100));
        using StreamingTensorSource source = Open(store, 200);
        using TensorLease a = source.Acquire("a");
        AcquireAndRelease(source, store, "b");
        AcquireAndRelease(source, store, "c");
        Assert.That(source.Cache.GetLruOrder(), Is.EqualTo(new[] { "a", "c" }));
        Assert.That(a.Bytes.SequenceEqual(store.Expected("a")), Is.True);
    }

    [Test]
    public void Acquire_EmptyTensor_IsHandedOutAndCostsNothing()
    {
        var store = new MemoryTensorStore(("empty", 0), ("x", 10));
        using StreamingTensorSource source = Open(store, 10);
        using TensorLease empty = source.Acquire("empty");
        using TensorLease x = source.Acquire("x");
        Assert.That(empty.Bytes.Length, Is.Zero);
        Assert.That(source.GetStatistics().CachedBytes, Is.EqualTo(10));
    }

    [Test]
    public void Prefetch_ThenAcquire_ServesFromTheCacheAndReadsOnce()
    {
        var store = new MemoryTensorStore(("a", 500), ("b", 700), ("c", 300));
        using StreamingTensorSource source = Open(store, 2000, threads: 3);
        source.Prefetch(["a", "b", "c", "a"]);
        Assert.That(source.Cache.WaitForPrefetch(Patience), Is.True);
        foreach (string name in new[] { "c", "a", "b" })
        {
            AcquireAndRelease(source, store, name);
        }

        TensorSourceStatistics stats = source.GetStatistics();
        Assert.That((stats.Hits, stats.Misses, stats.TensorsLoaded, stats.BytesLoaded), Is.EqualTo((3L, 0L, 3L, 1500L)));
        Assert.That(store.Reads.Values, Is.All.EqualTo(1));
    }

    [Test]
    public void Prefetch_SeveralThreads_DecodesConcurrently()
    {
        var store = new MemoryTensorStore(("a", 10), ("b", 10), ("c", 10));
        store.Gate.Reset();
        using StreamingTensorSource source = Open(store, 100, threads: 3);
        source.Prefetch(["a", "b", "c"]);
        for (int i = 0; i < 3; i++)
        {
            Assert.That(store.ReadStarted.Wait(Patience), Is.True);
        }

        store.Gate.Set();
        Assert.That(source.Cache.WaitForPrefetch(Patience), Is.True);
        Assert.That(store.MaxConcurrentReads, Is.EqualTo(3));
    }

    [Test]
    public void Prefetch_MoreThanFits_DoesNotEvictPrefetchedTensorsNotYetUsed()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100), ("c", 100));
        using StreamingTensorSource source = Open(store, 200, threads: 1);
        source.Prefetch(["a", "b", "c"]);
        Assert.That(SpinWait.SpinUntil(() => source.GetStatistics().TensorsLoaded == 2, Patience), Is.True);
        Thread.Sleep(50);
        Assert.That(source.Cache.GetLruOrder(), Is.EqualTo(new[] { "a", "b" }), "c must wait for room, not evict a or b");

        AcquireAndRelease(source, store, "a");
        Assert.That(source.Cache.WaitForPrefetch(Patience), Is.True);
        Assert.That(source.Cache.GetLruOrder(), Is.EqualTo(new[] { "b", "c" }));
        AcquireAndRelease(source, store, "b");
        AcquireAndRelease(source, store, "c");
        Assert.That(source.GetStatistics().Misses, Is.Zero);
    }

    [Test]
    public void Acquire_WhilePrefetchDecodes_WaitsForItInsteadOfReadingAgain()
    {
        var store = new MemoryTensorStore(("a", 100));
        store.Gate.Reset();
        using StreamingTensorSource source = Open(store, 100);
        source.Prefetch(["a"]);
        Assert.That(store.ReadStarted.Wait(Patience), Is.True);
        Task<TensorLease> pending = source.AcquireAsync("a");
        Thread.Sleep(50);
        Assert.That(pending.IsCompleted, Is.False);
        store.Gate.Set();
        using TensorLease lease = pending.Result;
        Assert.That(lease.Bytes.SequenceEqual(store.Expected("a")), Is.True);
        Assert.That(store.Reads["a"], Is.EqualTo(1));
        Assert.That(source.GetStatistics().PrefetchWaits, Is.EqualTo(1));
    }

    [Test]
    public void Acquire_ConcurrentReaders_AllSeeVerifiedBytesWithinTheBudget()
    {
        (string, int)[] tensors = Enumerable.Range(0, 12).Select(i => ($"t{i}", 1000 + (i * 397))).ToArray();
        var store = new MemoryTensorStore(tensors);
        long budget = tensors.Max(t => t.Item2) * 2;
        using StreamingTensorSource source = Open(store, budget, threads: 2);
        int failures = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var rng = new Random(worker);
            for (int i = 0; i < 150; i++)
            {
                string name = $"t{rng.Next(tensors.Length)}";
                if (rng.Next(8) == 0)
                {
                    source.Prefetch([$"t{rng.Next(tensors.Length)}"]);
                }

                using TensorLease lease = source.Acquire(name);
                if (!lease.Bytes.SequenceEqual(store.Expected(name)))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });

        Assert.That(failures, Is.Zero);
        TensorSourceStatistics stats = source.GetStatistics();
        Assert.That(stats.PeakCachedBytes, Is.LessThanOrEqualTo(budget));
        Assert.That(stats.Requests, Is.EqualTo(600));
        Assert.That(stats.Hits + stats.PrefetchWaits + stats.Misses, Is.EqualTo(stats.Requests));
    }

    [Test]
    public void Acquire_BudgetHeldByOwnLeases_ThrowsAtOnceInsteadOfDeadlocking()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100));
        using StreamingTensorSource source = Open(store, 150, leaseWait: Timeout.InfiniteTimeSpan);
        using TensorLease a = source.Acquire("a");
        Assert.That(() => source.Acquire("b"), Throws.InvalidOperationException.With.Message.Contains("'b' needs 100 bytes"));
        Assert.That(source.GetStatistics().CachedBytes, Is.EqualTo(100));
    }

    // Leases are attributed to the thread that acquired them, so "another thread" must be a dedicated one: a
    // thread-pool task may run on the test's own thread.
    private static TensorLease AcquireOnOtherThread(ITensorSource source, string name)
    {
        TensorLease? lease = null;
        var thread = new Thread(() => lease = source.Acquire(name));
        thread.Start();
        thread.Join();
        return lease!;
    }

    [Test]
    public void Acquire_BudgetHeldByAnotherThread_WaitsForItsRelease()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100));
        using StreamingTensorSource source = Open(store, 150);
        TensorLease a = AcquireOnOtherThread(source, "a");
        Task<TensorLease> b = Task.Run(() => source.Acquire("b"));
        Thread.Sleep(100);
        Assert.That(b.IsCompleted, Is.False);
        a.Dispose();
        using TensorLease lease = b.Result;
        Assert.That(lease.Bytes.SequenceEqual(store.Expected("b")), Is.True);
    }

    [Test]
    public void Acquire_BudgetHeldByAnotherThreadTooLong_ThrowsTimeoutException()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100));
        using StreamingTensorSource source = Open(store, 150, leaseWait: TimeSpan.FromMilliseconds(100));
        using TensorLease a = AcquireOnOtherThread(source, "a");
        Assert.That(() => source.Acquire("b"), Throws.InstanceOf<TimeoutException>());
    }

    [Test]
    public void Acquire_CancelledWhileWaiting_ThrowsOperationCanceled()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100));
        using StreamingTensorSource source = Open(store, 150);
        using TensorLease a = AcquireOnOtherThread(source, "a");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.That(() => source.Acquire("b", cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void Acquire_StoreFailsVerification_ThrowsNamingTheTensorAndFreesItsRoom()
    {
        var store = new MemoryTensorStore(("good", 100), ("bad", 100));
        store.Corrupt["bad"] = true;
        using StreamingTensorSource source = Open(store, 100);
        Assert.That(() => source.Acquire("bad"), Throws.InstanceOf<Z4AiIntegrityException>().With.Property("Subject").EqualTo("bad"));
        Assert.That(source.GetStatistics().CachedBytes, Is.Zero);
        AcquireAndRelease(source, store, "good");

        // A failed prefetch is retried by the acquire, which throws on the caller's thread.
        source.Prefetch(["bad"]);
        Assert.That(source.Cache.WaitForPrefetch(Patience), Is.True);
        Assert.That(() => source.Acquire("bad"), Throws.InstanceOf<Z4AiIntegrityException>());
        Assert.That(store.Reads["bad"], Is.EqualTo(3));
        Assert.That(source.GetStatistics().CachedBytes, Is.LessThanOrEqualTo(100));
    }

    [Test]
    public void Acquire_WaitingOnAPrefetchThatFails_RethrowsItsError()
    {
        var store = new MemoryTensorStore(("bad", 100));
        store.Corrupt["bad"] = true;
        store.Gate.Reset();
        using StreamingTensorSource source = Open(store, 100);
        source.Prefetch(["bad"]);
        Assert.That(store.ReadStarted.Wait(Patience), Is.True);
        Task<TensorLease> pending = source.AcquireAsync("bad");
        Thread.Sleep(50);
        store.Gate.Set();
        Assert.That(() => pending.GetAwaiter().GetResult(), Throws.InstanceOf<Z4AiIntegrityException>());
    }

    [Test]
    public void Open_BudgetBelowTheLargestTensor_IsRefusedWithTheSizeNeeded()
    {
        var store = new MemoryTensorStore(("small", 10), ("large", 1234));
        Assert.That(
            () => Open(store, 1233),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("at least 1234 bytes").And.Message.Contains("'large'"));
        Assert.That(store.Disposed, Is.True);
    }

    [Test]
    public void Options_OutOfRange_AreRefused()
    {
        Assert.That(() => Open(new MemoryTensorStore(("a", 1)), 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(
            () => new StreamingTensorSource(new MemoryTensorStore(("a", 1)), new TensorSourceOptions { PrefetchThreads = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(
            () => new StreamingTensorSource(new MemoryTensorStore(("a", 1)), new TensorSourceOptions { LeaseWaitTimeout = TimeSpan.FromSeconds(-2) }),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Acquire_UnknownName_ThrowsTensorNotFound()
    {
        var store = new MemoryTensorStore(("a", 1));
        using StreamingTensorSource source = Open(store, 10);
        Assert.That(() => source.Acquire("nope"), Throws.InstanceOf<Z4AiTensorNotFoundException>());
        Assert.That(() => source.Prefetch(["a", "nope"]), Throws.InstanceOf<Z4AiTensorNotFoundException>());
        Assert.That(source.Cache.WaitForPrefetch(TimeSpan.FromSeconds(1)), Is.True);
        Assert.That(source.GetStatistics().TensorsLoaded, Is.Zero, "nothing is queued when a name is unknown");
    }

    [Test]
    public void Dispose_WithALeaseOutstanding_KeepsItReadableAndRefusesNewRequests()
    {
        var store = new MemoryTensorStore(("a", 100), ("b", 100));
        StreamingTensorSource source = Open(store, 200);
        TensorLease a = source.Acquire("a");
        source.Prefetch(["b"]);
        source.Dispose();
        Assert.That(store.Disposed, Is.True);
        Assert.That(a.Bytes.SequenceEqual(store.Expected("a")), Is.True);
        a.Dispose();
        a.Dispose();
        Assert.That(() => a.Bytes.Length, Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(() => source.Acquire("a"), Throws.InstanceOf<ObjectDisposedException>());
        source.Dispose();
    }
}
