using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

/// <summary>
/// The checked-in logistic tables define the context-mixing format: they must equal what the integer generator
/// below produces, and their hash must not change.
/// </summary>
public class LogisticTablesTests
{
    private const string TablesSha256 = "5AFF7F97D607789EC44515BC5B0D2720D3BB465A851A40C0553160C58A487E9A";

    [Test]
    public void SquashTable_MatchesIntegerGenerator()
    {
        short[] generated = GenerateSquash();
        Assert.That(LogisticTables.SquashTable.ToArray(), Is.EqualTo(generated));
    }

    [Test]
    public void StretchTable_MatchesIntegerGenerator()
    {
        short[] generated = GenerateStretch(GenerateSquash());
        Assert.That(LogisticTables.StretchTable.ToArray(), Is.EqualTo(generated));
    }

    [Test]
    public void Tables_HashIsUnchanged()
    {
        byte[] bytes = new byte[(LogisticTables.SquashTable.Length + LogisticTables.StretchTable.Length) * 2];
        int at = 0;
        foreach (short v in LogisticTables.SquashTable)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(at), v);
            at += 2;
        }

        foreach (short v in LogisticTables.StretchTable)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(at), v);
            at += 2;
        }

        Assert.That(Convert.ToHexString(SHA256.HashData(bytes)), Is.EqualTo(TablesSha256));
    }

    [Test]
    public void Squash_IsMonotoneSymmetricAndClose_ToTheLogistic()
    {
        int previous = 0;
        for (int d = -2047; d <= 2047; d++)
        {
            int p = LogisticTables.Squash(d);
            Assert.That(p, Is.GreaterThanOrEqualTo(previous));
            Assert.That(p + LogisticTables.Squash(-d), Is.EqualTo(4096));
            Assert.That(p, Is.EqualTo(4096 / (1 + Math.Exp(-d / 256.0))).Within(1.0));
            previous = p;
        }

        Assert.That(LogisticTables.Squash(-100_000), Is.EqualTo(1));
        Assert.That(LogisticTables.Squash(100_000), Is.EqualTo(4095));
    }

    [Test]
    public void Stretch_InvertsSquash()
    {
        for (int p = 1; p < 4096; p++)
        {
            int d = LogisticTables.Stretch(p);
            Assert.That(LogisticTables.Squash(d), Is.GreaterThanOrEqualTo(p));
            Assert.That(d == -2047 || LogisticTables.Squash(d - 1) < p, Is.True, $"p={p}");
        }
    }

    // The generator, integer arithmetic only: e^(1/256) by its Taylor series in Q40, e^(d/256) by repeated
    // multiplication, squash(d) = round(4096·e/(1 + e)) clamped to [1, 4095] and mirrored; stretch(p) = the
    // smallest d whose squash reaches p.
    internal static short[] GenerateSquash()
    {
        const int Q = 40;
        UInt128 one = (UInt128)1 << Q;
        UInt128 step = 0;
        UInt128 term = one;
        for (int k = 1; term != 0; k++)
        {
            step += term;
            term /= (UInt128)(256 * k);
        }

        short[] squash = new short[4095];
        UInt128 power = one;
        for (int d = 0; d <= 2047; d++)
        {
            int value = Math.Clamp((int)(((4096 * power) + ((power + one) / 2)) / (power + one)), 1, 4095);
            squash[2047 + d] = (short)value;
            squash[2047 - d] = (short)(4096 - value);
            power = (power * step) >> Q;
        }

        return squash;
    }

    internal static short[] GenerateStretch(short[] squash)
    {
        short[] stretch = new short[4096];
        int next = 0;
        for (int d = -2047; d <= 2047; d++)
        {
            int v = squash[d + 2047];
            for (int p = next; p <= v; p++)
            {
                stretch[p] = (short)d;
            }

            next = Math.Max(next, v + 1);
        }

        for (int p = next; p < 4096; p++)
        {
            stretch[p] = 2047;
        }

        return stretch;
    }
}
