using System.Text;
using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

public sealed class S3CapabilityRecordTests
{
    [Test]
    public void Serialize_ThenParse_RoundTripsEveryField()
    {
        Arbitrary<(int Bits, string Notes)> arb = Gen.Zip(Gen.Choose(0, int.MaxValue), ArbMap.Default.GeneratorFor<string>().Where(s => s is not null)).ToArbitrary();
        Prop.ForAll(arb, t =>
        {
            var at = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(t.Bits).AddTicks(t.Bits % 10_000_000);
            var caps = new S3Capabilities((t.Bits & 1) != 0, (t.Bits & 2) != 0, (t.Bits & 4) != 0, at, t.Notes);
            var parsed = S3CapabilityRecord.TryParse(S3CapabilityRecord.Serialize(caps, "http://127.0.0.1:7480"));
            return parsed is { } p && p.Capabilities == caps && p.Endpoint == "http://127.0.0.1:7480";
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    [TestCase("")]
    [TestCase("[]")]
    [TestCase("{}")]
    [TestCase("{\"format\":\"z4ai-s3-capabilities\",\"version\":2,\"endpoint\":\"x\",\"conditionalCreate\":true,\"conditionalReplace\":true,\"rangedGet\":true,\"probedAtUtc\":\"2026-01-01T00:00:00.0000000Z\"}")]
    [TestCase("{\"format\":\"z4ai-s3-capabilities\",\"version\":1,\"endpoint\":\"x\",\"conditionalCreate\":\"yes\",\"conditionalReplace\":true,\"rangedGet\":true,\"probedAtUtc\":\"2026-01-01T00:00:00.0000000Z\"}")]
    [TestCase("{\"format\":\"z4ai-s3-capabilities\",\"version\":1,\"endpoint\":\"x\",\"conditionalCreate\":true,\"conditionalReplace\":true,\"rangedGet\":true,\"probedAtUtc\":\"yesterday\"}")]
    [TestCase("{\"format\":\"z4ai-s3-capabilities\",\"version\":1,\"endpoint\":\"x\",\"conditionalCreate\":true,\"conditionalReplace\":true,\"probedAtUtc\":\"2026-01-01T00:00:00.0000000Z\"}")]
    public void TryParse_NotARecord_IsNull(string text) =>
        Assert.That(S3CapabilityRecord.TryParse(Encoding.UTF8.GetBytes(text)), Is.Null);

    [Test]
    public void StaleReason_AgeClockAndEndpoint_AreEachReasonsToReprobe()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        S3Capabilities At(TimeSpan ago) => new(true, true, true, now - ago, "n");
        const string E = "http://127.0.0.1:7480";
        Assert.Multiple(() =>
        {
            Assert.That(S3CapabilityRecord.StaleReason(At(TimeSpan.FromDays(6)), E, E, TimeSpan.FromDays(7), now), Is.Null);
            Assert.That(S3CapabilityRecord.StaleReason(At(TimeSpan.FromDays(8)), E, E, TimeSpan.FromDays(7), now), Does.Contain("more than 7 days"));
            Assert.That(S3CapabilityRecord.StaleReason(At(TimeSpan.FromDays(-2)), E, E, TimeSpan.FromDays(7), now), Does.Contain("future"));
            Assert.That(S3CapabilityRecord.StaleReason(At(TimeSpan.FromHours(1)), "http://10.0.0.1:80", E, TimeSpan.FromDays(7), now), Does.Contain("10.0.0.1"));
            Assert.That(S3CapabilityRecord.StaleReason(At(TimeSpan.FromSeconds(1)), E, E, TimeSpan.Zero, now), Is.Not.Null, "max age zero: always re-probe");
        });
    }
}
