using System.Runtime.InteropServices;
using System.Security.Cryptography;
using NUnit.Framework;
using Z4Ai.Archival;

namespace Z4Ai.Tests.Archival;

/// <summary>
/// The generated tables and shipped primers define the archive format: a changed entry silently changes every
/// prediction, so their SHA-256 values are pinned here. A failure means the model version must change, not the hash.
/// </summary>
public class ArchiveTablesTests
{
    private static string Hash<T>(ReadOnlySpan<T> values)
        where T : unmanaged =>
        Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values)));

    [Test]
    public void Logistic_Tables_HaveThePinnedHashes()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Hash(Logistic.SquashValues), Is.EqualTo(ArchiveGolden.SquashSha256));
            Assert.That(Hash(Logistic.StretchValues), Is.EqualTo(ArchiveGolden.StretchSha256));
        });
    }

    [Test]
    public void BitHistory_Table_HasThePinnedHashAndSize()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Hash<byte>(BitHistory.Transitions), Is.EqualTo(ArchiveGolden.BitHistorySha256));
            Assert.That(BitHistory.Count, Is.EqualTo(ArchiveGolden.BitHistoryStates));
        });
    }

    [Test]
    public void Primers_HaveThePinnedHashes()
    {
        foreach (Primer primer in Primer.All)
        {
            Assert.That(primer.Digest.ToString(), Is.EqualTo(ArchiveGolden.PrimerSha256[primer.FullName]), primer.FullName);
        }
    }

    [Test]
    public void Primers_AreTheShippedSetOfThisProjectsOwnText()
    {
        // Only prose-v3, code-v2 and json-v1 ship; the withdrawn primers (third-party text) are not found by id.
        Assert.Multiple(() =>
        {
            Assert.That(Primer.All.Select(p => p.FullName), Is.EqualTo(new[] { "prose-v3", "code-v2", "json-v1" }));
            Assert.That(Primer.Find(1, 1), Is.Null);
            Assert.That(Primer.Find(1, 2), Is.Null);
            Assert.That(Primer.Find(2, 1), Is.Null);
            Assert.That(Primer.ForPreset(ArchivePreset.Prose)!.FullName, Is.EqualTo("prose-v3"));
            Assert.That(Primer.ForPreset(ArchivePreset.Code)!.FullName, Is.EqualTo("code-v2"));
            Assert.That(Primer.ForPreset(ArchivePreset.Json)!.FullName, Is.EqualTo("json-v1"));
            Assert.That(Primer.ForPreset(ArchivePreset.Binary), Is.Null);
        });

        // Phrases that began the withdrawn texts (a licence line, an import, reference-documentation sentences).
        string[] foreign = ["Copyright 2014 Pallets", "import click", ".NET Foundation", "DelegatingHandler", "The offset parameter is less than zero"];
        foreach (Primer primer in Primer.All)
        {
            string text = System.Text.Encoding.UTF8.GetString(primer.Bytes);
            foreach (string phrase in foreign)
            {
                Assert.That(text, Does.Not.Contain(phrase), $"{primer.FullName} contains '{phrase}'");
            }

            Assert.That(primer.Bytes.Length, Is.InRange(50_000, 600_000), primer.FullName + " size");
        }
    }

    [Test]
    public void Squash_IsMonotoneAndBounded()
    {
        int previous = 0;
        for (int d = -3000; d <= 3000; d++)
        {
            int p = Logistic.Squash(d);
            Assert.That(p, Is.InRange(1, 4095));
            Assert.That(p, Is.GreaterThanOrEqualTo(previous));
            previous = p;
        }

        Assert.That(Logistic.Squash(0), Is.EqualTo(2048));
    }

    [Test]
    public void Stretch_InvertsSquash()
    {
        for (int p = 1; p < 4096; p++)
        {
            int back = Logistic.Squash(Logistic.Stretch(p));
            Assert.That(Math.Abs(back - p), Is.LessThanOrEqualTo(Math.Max(2, p / 40)), $"p = {p}");
        }

        for (int d = -2047; d <= 2047; d++)
        {
            Assert.That(Logistic.Stretch(Logistic.Squash(d)), Is.LessThanOrEqualTo(d), $"d = {d}");
        }
    }

    [Test]
    public void BitHistory_CountsFollowTheBits()
    {
        int state = 0;
        for (int i = 0; i < 100; i++)
        {
            state = BitHistory.Next(state, 1);
        }

        Assert.Multiple(() =>
        {
            Assert.That(BitHistory.ZeroCount(state), Is.Zero);
            Assert.That(BitHistory.OneCount(state), Is.EqualTo(40));
        });

        state = BitHistory.Next(state, 0);
        Assert.Multiple(() =>
        {
            Assert.That(BitHistory.ZeroCount(state), Is.EqualTo(1));
            Assert.That(BitHistory.OneCount(state), Is.LessThan(40), "a surprise discounts the old evidence");
        });
    }

    [Test]
    public void BitHistory_EveryTransitionStaysInTheTable()
    {
        Assert.That(BitHistory.Count, Is.InRange(2, 256));
        for (int s = 0; s < BitHistory.Count; s++)
        {
            Assert.That((int)BitHistory.Next(s, 0), Is.LessThan(BitHistory.Count));
            Assert.That((int)BitHistory.Next(s, 1), Is.LessThan(BitHistory.Count));
        }
    }
}
