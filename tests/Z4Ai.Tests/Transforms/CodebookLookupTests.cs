using FsCheck;
using FsCheck.Fluent;
using NUnit.Framework;
using Z4Ai.Transforms;

namespace Z4Ai.Tests.Transforms;

/// <summary>
/// The shuffle lookup of byte-wide palette indices: every vector path against a scalar oracle at awkward lengths and
/// every element size and codebook size it takes, and its stop before a block holding an out-of-range index.
/// </summary>
public class CodebookLookupTests
{
    private static readonly int[] AwkwardLengths = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1000];

    private static IEnumerable<CodebookLookup.Path> VectorPaths()
    {
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            yield return CodebookLookup.Path.Vector128;
        }

        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && BitConverter.IsLittleEndian)
        {
            yield return CodebookLookup.Path.Avx2;
        }
    }

    private static byte[] Oracle(byte[] indices, byte[] codebook, int elementSize)
    {
        byte[] result = new byte[indices.Length * elementSize];
        for (int j = 0; j < indices.Length; j++)
        {
            codebook.AsSpan(indices[j] * elementSize, elementSize).CopyTo(result.AsSpan(j * elementSize));
        }

        return result;
    }

    [Test]
    public void Expand_EveryPathSizeAndAwkwardLength_MatchesTheOracleOverTheBlocksItCovers()
    {
        Assert.That(VectorPaths(), Is.Not.Empty, "this machine has at least one vector path to check");
        var random = new Random(1);
        foreach (CodebookLookup.Path path in VectorPaths())
        {
            foreach (int elementSize in new[] { 1, 2, 4 })
            {
                foreach (int entries in new[] { 1, 2, 7, 15, 16 })
                {
                    foreach (int n in AwkwardLengths)
                    {
                        byte[] codebook = new byte[entries * elementSize];
                        random.NextBytes(codebook);
                        byte[] indices = new byte[n];
                        for (int j = 0; j < n; j++)
                        {
                            indices[j] = (byte)random.Next(entries);
                        }

                        byte[] actual = new byte[n * elementSize];
                        int done = CodebookLookup.Expand(indices, codebook, entries, elementSize, actual, path);
                        int block = path == CodebookLookup.Path.Avx2 ? 32 : 16;
                        Assert.That(done, Is.EqualTo(n / block * block), $"{path}, size {elementSize}, {entries} entries, n {n}");
                        Assert.That(actual.AsSpan(0, done * elementSize).ToArray(), Is.EqualTo(Oracle(indices, codebook, elementSize).AsSpan(0, done * elementSize).ToArray()));
                    }
                }
            }
        }
    }

    [Test]
    public void Expand_RandomInputs_AgreeWithTheOracleAndStopBeforeABadIndex()
    {
        Arbitrary<(int Size, int Entries, int Length, int Bad, int Seed)> cases =
            (from size in Gen.Elements(1, 2, 4)
             from entries in Gen.Choose(1, CodebookLookup.MaxEntries)
             from length in Gen.Choose(0, 300)
             from bad in Gen.Choose(-1, 299)
             from seed in Gen.Choose(0, int.MaxValue - 1)
             select (size, entries, length, bad, seed)).ToArbitrary();
        Prop.ForAll(cases, c =>
        {
            var random = new Random(c.Seed);
            byte[] codebook = new byte[c.Entries * c.Size];
            random.NextBytes(codebook);
            byte[] indices = new byte[c.Length];
            for (int j = 0; j < c.Length; j++)
            {
                indices[j] = (byte)random.Next(c.Entries);
            }

            bool hasBad = c.Bad >= 0 && c.Bad < c.Length;
            if (hasBad)
            {
                indices[c.Bad] = (byte)(c.Entries + random.Next(256 - c.Entries));
            }

            foreach (CodebookLookup.Path path in VectorPaths())
            {
                byte[] actual = new byte[c.Length * c.Size];
                int done = CodebookLookup.Expand(indices, codebook, c.Entries, c.Size, actual, path);
                if (done > c.Length || (hasBad && done > c.Bad))
                {
                    return false;
                }

                byte[] good = indices.AsSpan(0, done).ToArray();
                if (!actual.AsSpan(0, done * c.Size).SequenceEqual(Oracle(good, codebook, c.Size)))
                {
                    return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Test]
    public void Expand_ScalarPathOrUnsupportedShape_LeavesEverythingToTheCaller()
    {
        byte[] indices = new byte[100];
        byte[] destination = new byte[200];
        Assert.That(CodebookLookup.Expand(indices, new byte[4], 2, 2, destination, CodebookLookup.Path.Scalar), Is.Zero);
        Assert.That(CodebookLookup.Applies(8, 4), Is.False, "8-byte elements are looked up one at a time");
        Assert.That(CodebookLookup.Applies(2, 17), Is.False, "a shuffle table holds 16 entries");
        Assert.That(CodebookLookup.Applies(2, 0), Is.False);
        Assert.Throws<ArgumentException>(() => CodebookLookup.Expand(indices, new byte[4], 2, 2, new byte[10], CodebookLookup.Best));
    }
}
