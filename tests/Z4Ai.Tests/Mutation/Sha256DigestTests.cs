using System.Security.Cryptography;
using System.Text;
using NUnit.Framework;
using Z4Ai.Integrity;

namespace Z4Ai.Tests.Mutation;

/// <summary>
/// The digest type every tensor check relies on, pinned edge by edge (written against Stryker's surviving mutants):
/// exact sizes, the default value, hex parsing that refuses anything but 64 hex digits, and equality that compares
/// every byte.
/// </summary>
public class Sha256DigestTests
{
    private const string AbcHex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Test]
    public void Compute_KnownVector_MatchesFips180Value()
    {
        Sha256Digest digest = Sha256Digest.Compute(Encoding.ASCII.GetBytes("abc"));
        Assert.That(digest.ToString(), Is.EqualTo(AbcHex));
        Assert.That(digest.Bytes.Length, Is.EqualTo(Sha256Digest.Size));
        Assert.That(Sha256Digest.Size, Is.EqualTo(32));
    }

    [Test]
    public void Compute_AnyInput_EqualsSystemSha256()
    {
        var rng = new Random(7);
        foreach (int length in new[] { 0, 1, 55, 56, 64, 1000 })
        {
            byte[] data = new byte[length];
            rng.NextBytes(data);
            Assert.That(Sha256Digest.Compute(data).Bytes.ToArray(), Is.EqualTo(SHA256.HashData(data)), $"length {length}");
        }
    }

    [TestCase(0)]
    [TestCase(31)]
    [TestCase(33)]
    public void Constructor_WrongLength_ThrowsNamingBothLengths(int length)
    {
        var error = Assert.Throws<ArgumentException>(() => _ = new Sha256Digest(new byte[length]));
        Assert.That(error!.Message, Does.Contain("32 bytes").And.Contain($"got {length}"));
        Assert.That(error.ParamName, Is.EqualTo("bytes"));
    }

    [Test]
    public void Constructor_CopiesTheBytes_LaterChangesToTheSourceDoNotLeakIn()
    {
        byte[] source = SHA256.HashData([1, 2, 3]);
        var digest = new Sha256Digest(source);
        source[0] ^= 0xFF;
        Assert.That(digest.Bytes[0], Is.Not.EqualTo(source[0]));
    }

    [Test]
    public void Default_ActsAsAllZeroDigest()
    {
        Sha256Digest zero = default;
        Assert.That(zero.Bytes.Length, Is.EqualTo(32));
        Assert.That(zero.Bytes.ToArray(), Is.All.EqualTo(0));
        Assert.That(zero.ToString(), Is.EqualTo(new string('0', 64)));
        Assert.That(zero, Is.EqualTo(new Sha256Digest(new byte[32])));
        Assert.That(zero.GetHashCode(), Is.EqualTo(0));
    }

    [Test]
    public void Parse_RoundTripsToString_AcceptsUpperCase()
    {
        Assert.That(Sha256Digest.Parse(AbcHex).ToString(), Is.EqualTo(AbcHex));
        Assert.That(Sha256Digest.Parse(AbcHex.ToUpperInvariant()).ToString(), Is.EqualTo(AbcHex));
    }

    [TestCase(63)]
    [TestCase(65)]
    [TestCase(0)]
    public void Parse_WrongLength_ThrowsFormatExceptionNamingTheLength(int length)
    {
        string hex = new('a', length);
        var error = Assert.Throws<FormatException>(() => Sha256Digest.Parse(hex));
        Assert.That(error!.Message, Does.Contain("64 hex characters").And.Contain($"got {length}"));
    }

    [Test]
    public void Parse_Null_ThrowsArgumentNull() => Assert.Throws<ArgumentNullException>(() => Sha256Digest.Parse(null!));

    [Test]
    public void Parse_NonHexCharacter_Throws() => Assert.Throws<FormatException>(() => Sha256Digest.Parse("zz" + AbcHex[2..]));

    [Test]
    public void TryParse_Valid_ReturnsTrueAndTheDigest()
    {
        Assert.That(Sha256Digest.TryParse(AbcHex, out Sha256Digest digest), Is.True);
        Assert.That(digest.ToString(), Is.EqualTo(AbcHex));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("ba7816bf")]
    [TestCase("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00")]
    [TestCase("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")]
    [TestCase("xa7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [TestCase("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aG")]
    public void TryParse_Invalid_ReturnsFalseAndDefault(string? hex)
    {
        Assert.That(Sha256Digest.TryParse(hex, out Sha256Digest digest), Is.False);
        Assert.That(digest, Is.EqualTo(default(Sha256Digest)));
        Assert.That(digest.ToString(), Is.EqualTo(new string('0', 64)));
    }

    [Test]
    public void Equality_DiffersInAnySingleByte_NotEqual()
    {
        byte[] bytes = SHA256.HashData([9]);
        var a = new Sha256Digest(bytes);
        for (int i = 0; i < 32; i++)
        {
            byte[] changed = (byte[])bytes.Clone();
            changed[i] ^= 0x01;
            var b = new Sha256Digest(changed);
            Assert.That(a.Equals(b), Is.False, $"byte {i}");
            Assert.That(a == b, Is.False);
            Assert.That(a != b, Is.True);
            Assert.That(a.Equals((object)b), Is.False);
        }

        var same = new Sha256Digest(bytes);
        Assert.That(a.Equals(same), Is.True);
        Assert.That(a == same, Is.True);
        Assert.That(a != same, Is.False);
        Assert.That(a.Equals((object)same), Is.True);
        Assert.That(a.Equals((object)bytes), Is.False);
        Assert.That(a.Equals(null), Is.False);
        Assert.That(a.GetHashCode(), Is.EqualTo(same.GetHashCode()));
        Assert.That(a.GetHashCode(), Is.EqualTo(BitConverter.ToInt32(bytes)));
    }

    [Test]
    public void HashSet_EqualDigests_CollapseToOne()
    {
        var set = new HashSet<Sha256Digest> { Sha256Digest.Parse(AbcHex), Sha256Digest.Parse(AbcHex.ToUpperInvariant()), Sha256Digest.Compute([]) };
        Assert.That(set, Has.Count.EqualTo(2));
    }
}
