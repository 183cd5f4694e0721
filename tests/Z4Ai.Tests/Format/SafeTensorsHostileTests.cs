using System.Text;
using NUnit.Framework;
using Z4Ai.Format;

namespace Z4Ai.Tests.Format;

/// <summary>
/// Hostile input: the named crasher files, the reference's abuse attempts (DoS by overlap), and exhaustive
/// deterministic mutations of every valid vector. Only <see cref="Z4AiFormatException"/> may escape.
/// </summary>
public class SafeTensorsHostileTests
{
    private static string HostileDir => Path.Combine(AppContext.BaseDirectory, "TestData", "hostile");

    private static IEnumerable<string> HostileFiles() =>
        Directory.Exists(HostileDir)
            ? Directory.GetFiles(HostileDir, "*.safetensors").Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal)
            : [];

    /// <summary>Each file is named <c>ExpectedKind_Description.safetensors</c>.</summary>
    [TestCaseSource(nameof(HostileFiles))]
    public void Parse_HostileFile_ThrowsTheKindInItsName(string fileName)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(HostileDir, fileName));
        var expected = Enum.Parse<Z4AiErrorKind>(fileName[..fileName.IndexOf('_', StringComparison.Ordinal)]);
        Assert.That(StBytes.ParseKind(bytes), Is.EqualTo(expected));

        using (FileStream stream = File.OpenRead(Path.Combine(HostileDir, fileName)))
        {
            Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(stream)), Is.EqualTo(expected));
        }

        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(Path.Combine(HostileDir, fileName));
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ReadHeader(handle)), Is.EqualTo(expected));
    }

    [Test]
    public void HostileFiles_ArePresent() => Assert.That(HostileFiles().Count(), Is.GreaterThanOrEqualTo(8));

    [Test]
    public void Parse_Abuse3HundredThousandOverlappingTensors_FailsFastWithInvalidOffset()
    {
        // attacks/safetensors_abuse_attempt_3.py, byte for byte: json.dumps spacing, data as long as the header.
        // No timed assert (speed lives in bench/): a quadratic overlap check would need about 10^10 comparisons
        // here and 10^12 in the million-tensor case below, so it would stall the run rather than pass.
        byte[] file = OverlapAttack(100_000, "[200, 200]", 160_000);
        var ex = Assert.Throws<Z4AiFormatException>(() => SafeTensorsFormat.Parse(file))!;
        Assert.That(ex.Kind, Is.EqualTo(Z4AiErrorKind.InvalidOffset));
    }

    [Test]
    public void Parse_MillionOverlappingTensorsNearTheHeaderLimit_FailsWithInvalidOffset()
    {
        // The abuse_attempt_2 shape scaled to what fits under the 100 MB limit (10M entries is ~800 MB and is
        // rejected from the prefix alone, see SafeTensorsReaderTests.ReadHeader_HugePrefix_ReadsOnlyEightBytes).
        // The data section is never read before the offset walk fails, so only its length is passed.
        byte[] json = OverlapJson(1_000_000, "[2, 2]", 16);
        Assert.That(json.Length, Is.LessThan(100_000_000));
        Assert.That(StBytes.KindOf(() => SafeTensorsFormat.ParseHeader(json, 8L + json.Length + json.Length)), Is.EqualTo(Z4AiErrorKind.InvalidOffset));
    }

    [Test]
    public void Parse_EveryTruncationAndBitFlipOfTheVectors_OnlyThrowsFormatExceptions()
    {
        byte[][] vectors =
        [
            StBytes.Serialize([("attn.0", DType.F32, [1, 2, 3], StBytes.Floats(0, 1, 2, 3, 4, 5))]),
            StBytes.Serialize([("test1", DType.I32, [2, 2], new byte[16]), ("test2", DType.F16, [2, 2], new byte[8])], new Dictionary<string, string> { ["framework"] = "pt" }),
            StBytes.Serialize([("\u00e9\n\"", DType.F4, [2, 2], [1, 2]), ("z", DType.C64, [0], [])]),
            StBytes.File("{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
        ];
        int parsed = 0, rejected = 0;
        foreach (byte[] v in vectors)
        {
            for (int len = 0; len < v.Length; len++)
            {
                Outcome(v.AsSpan(0, len).ToArray(), ref parsed, ref rejected);
            }

            for (int bit = 0; bit < v.Length * 8; bit++)
            {
                byte[] m = (byte[])v.Clone();
                m[bit / 8] ^= (byte)(1 << (bit % 8));
                Outcome(m, ref parsed, ref rejected);
            }
        }

        // Sanity: flips in payload bytes still parse, so both outcomes must have happened.
        Assert.That(parsed, Is.GreaterThan(0));
        Assert.That(rejected, Is.GreaterThan(0));
    }

    private static void Outcome(byte[] bytes, ref int parsed, ref int rejected)
    {
        try
        {
            SafeTensorsHeader h = SafeTensorsFormat.Parse(bytes);
            Assert.That(h.TotalLength, Is.EqualTo(bytes.Length));
            parsed++;
        }
        catch (Z4AiFormatException)
        {
            rejected++;
        }
    }

    private static byte[] OverlapAttack(int count, string shape, int n)
    {
        byte[] json = OverlapJson(count, shape, n);
        return StBytes.Cat(StBytes.Le((ulong)json.Length), json, new byte[json.Length]);
    }

    /// <summary>What Python's <c>json.dumps</c> writes for <paramref name="count"/> tensors all at <c>[0, n]</c>.</summary>
    private static byte[] OverlapJson(int count, string shape, int n)
    {
        using var ms = new MemoryStream();
        ms.WriteByte((byte)'{');
        for (int i = 0; i < count; i++)
        {
            string entry = $"\"weight_{i}\": {{\"dtype\": \"F32\", \"shape\": {shape}, \"data_offsets\": [0, {n}]}}";
            ms.Write(Encoding.ASCII.GetBytes(i > 0 ? ", " + entry : entry));
        }

        ms.WriteByte((byte)'}');
        return ms.ToArray();
    }
}
