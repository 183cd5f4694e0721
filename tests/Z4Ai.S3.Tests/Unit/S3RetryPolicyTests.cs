using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

public sealed class S3RetryPolicyTests
{
    private static S3RetryPolicy Policy(int retries, List<TimeSpan>? waits = null, double random = 0.5) =>
        new(retries, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), null, (d, _) =>
        {
            waits?.Add(d);
            return Task.CompletedTask;
        }, () => random);

    [Test]
    public void DelayCap_DoublesUntilMax()
    {
        S3RetryPolicy p = Policy(5);
        Assert.That(
            Enumerable.Range(1, 7).Select(p.DelayCap).Select(t => (int)t.TotalMilliseconds),
            Is.EqualTo(new[] { 100, 200, 400, 800, 1600, 2000, 2000 }));
    }

    [Test]
    public void DelayCap_HugeRetryNumber_DoesNotOverflow() =>
        Assert.That(Policy(5).DelayCap(int.MaxValue), Is.EqualTo(TimeSpan.FromSeconds(2)));

    [Test]
    public void Delay_Property_FullJitterWithinCap()
    {
        S3RetryPolicy p = Policy(5);
        Gen<(int, double)> gen = from n in Gen.Choose(1, 40) from r in Gen.Choose(0, 1000) select (n, r / 1000.0);
        Prop.ForAll(gen.ToArbitrary(), t => p.Delay(t.Item1, t.Item2) >= TimeSpan.Zero && p.Delay(t.Item1, t.Item2) <= p.DelayCap(t.Item1))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    private static AmazonS3Exception Service(HttpStatusCode status, string code) =>
        new("scripted", Amazon.Runtime.ErrorType.Sender, code, "r1", status);

    [Test]
    public void IsTransient_Classifies()
    {
        Assert.Multiple(() =>
        {
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.ServiceUnavailable, "SlowDown")), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.InternalServerError, "InternalError")), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.TooManyRequests, "")), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.BadRequest, "RequestTimeout")), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.BadRequest, "BadRequest")), Is.True, "a bare 400 without an S3 error document");
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.BadRequest, "InvalidArgument")), Is.False);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.Forbidden, "AccessDenied")), Is.False);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.NotFound, "NoSuchKey")), Is.False);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.PreconditionFailed, "PreconditionFailed")), Is.False);
            Assert.That(S3RetryPolicy.IsTransient(Service(HttpStatusCode.NotImplemented, "NotImplemented")), Is.False);
            Assert.That(S3RetryPolicy.IsTransient(new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused))), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(new IOException("reset")), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(new TaskCanceledException("timeout")), Is.True);
            Assert.That(S3RetryPolicy.IsTransient(new InvalidOperationException()), Is.False);
        });
    }

    [Test]
    public void IsTransient_OurOwnCancellation_IsNotTransient()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.That(S3RetryPolicy.IsTransient(new OperationCanceledException(cts.Token), cts.Token), Is.False);
    }

    [Test]
    public async Task ExecuteAsync_TransientThenSuccess_RetriesWithGrowingCaps()
    {
        var waits = new List<TimeSpan>();
        int calls = 0;
        int result = await Policy(5, waits, random: 1.0).ExecuteAsync(
            _ => ++calls < 3 ? throw Service(HttpStatusCode.ServiceUnavailable, "SlowDown") : Task.FromResult(42), "op", "k", default);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(42));
            Assert.That(calls, Is.EqualTo(3));
            Assert.That(waits, Is.EqualTo(new[] { TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200) }));
        });
    }

    [Test]
    public void ExecuteAsync_AlwaysTransient_GivesUpAfterMaxRetriesPlusOne()
    {
        int calls = 0;
        var ex = Assert.ThrowsAsync<S3RetryExhaustedException>(() =>
            Policy(3).ExecuteAsync<int>(_ => { calls++; throw new IOException("reset"); }, "op", "k", default));
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(4));
            Assert.That(ex!.Attempts, Is.EqualTo(4));
            Assert.That(ex.InnerException, Is.TypeOf<IOException>());
        });
    }

    [Test]
    public void ExecuteAsync_Permanent_FailsAtOnce()
    {
        int calls = 0;
        Assert.ThrowsAsync<AmazonS3Exception>(() =>
            Policy(3).ExecuteAsync<int>(_ => { calls++; throw Service(HttpStatusCode.Forbidden, "AccessDenied"); }, "op", "k", default));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void ExecuteAsync_PermanentAfterTransient_KeepsAttemptCount()
    {
        int calls = 0;
        var ex = Assert.ThrowsAsync<S3AttemptsException>(() =>
            Policy(3).ExecuteAsync<int>(_ => ++calls == 1 ? throw new IOException("reset") : throw Service(HttpStatusCode.Forbidden, "AccessDenied"), "op", "k", default));
        Assert.That(ex!.Attempts, Is.EqualTo(2));
    }

    [Test]
    public void ExecuteAsync_Cancelled_StopsWithoutRetrying()
    {
        using var cts = new CancellationTokenSource();
        int calls = 0;
        Assert.CatchAsync<OperationCanceledException>(() => Policy(3).ExecuteAsync<int>(
            ct =>
            {
                calls++;
                cts.Cancel();
                ct.ThrowIfCancellationRequested();
                return Task.FromResult(1);
            },
            "op",
            "k",
            cts.Token));
        Assert.That(calls, Is.EqualTo(1));
    }
}
