using System.Buffers.Binary;
using System.Text.Json;
using NUnit.Framework;
using Z4Ai.Entropy;
using static Z4Ai.Tests.Entropy.EntropyTestHelpers;

namespace Z4Ai.Tests.Entropy;

/// <summary>
/// Bits per symbol of the coders on the bf16 exponents of real trained weights (the sample models shipped beside
/// the repository as shared/data). Skipped, with a message, where the samples are absent.
/// </summary>
[Category("RealData")]
public class RealWeightsEntropyTests
{
    private const string SampleName = "use_lite_bf16.safetensors";

    [Test]
    public void Coders_Bf16ExponentsOfRealWeights_ReachOrBeatTheOrder0Bound()
    {
        string? path = FindSample(SampleName);
        if (path is null)
        {
            Assert.Ignore($"{SampleName} not found in a shared/data folder above the test directory");
            return;
        }

        List<(string Name, byte[] Symbols, int Row)> tensors = ReadBf16Exponents(path, minElements: 65536);
        Assert.That(tensors, Is.Not.Empty);
        double sum0 = 0;
        long sumRans0 = 0, sumRans1 = 0, sumMixing = 0, count = 0;
        TestContext.Out.WriteLine($"{"tensor",-44} {"n",9} {"H0",7} {"H1",7} {"rANS0",7} {"rANS1",7} {"CM",7}  (bits/symbol)");
        foreach ((string name, byte[] symbols, int row) in tensors)
        {
            double h0 = EntropyStats.Order0Bits(symbols);
            int rans0 = Encode(symbols, EntropyMethod.RansOrder0).Length;
            int rans1 = Encode(symbols, EntropyMethod.RansOrder1).Length;
            int mixing = Encode(symbols, EntropyMethod.ContextMixing, 8, row).Length;
            double n = symbols.Length;
            TestContext.Out.WriteLine(
                $"{name,-44} {symbols.Length,9} {h0 / n,7:F4} {EntropyStats.Order1Bits(symbols) / n,7:F4} {rans0 * 8 / n,7:F4} {rans1 * 8 / n,7:F4} {mixing * 8 / n,7:F4}");
            Assert.That(rans0 * 8.0, Is.LessThan(h0 * 1.005), name);
            Assert.That(rans1, Is.LessThanOrEqualTo(rans0 + 1), name);
            sum0 += h0;
            sumRans0 += rans0;
            sumRans1 += rans1;
            sumMixing += mixing;
            count += symbols.Length;
        }

        TestContext.Out.WriteLine(
            $"{"all tensors",-44} {count,9} {sum0 / count,7:F4} {"",7} {sumRans0 * 8.0 / count,7:F4} {sumRans1 * 8.0 / count,7:F4} {sumMixing * 8.0 / count,7:F4}");
        Assert.That(sumMixing * 8.0, Is.LessThan(sum0), "context mixing beats the per-tensor order-0 bound over the model");

        (string smallest, byte[] sample, int sampleRow) = tensors.MinBy(t => t.Symbols.Length);
        foreach (EntropyMethod method in AllMethods)
        {
            byte[] encoded = Encode(sample, method, 8, sampleRow);
            Assert.That(Decode(encoded, sample.Length, method, 8, sampleRow), Is.EqualTo(sample), $"{smallest} {method}");
        }
    }

    internal static string? FindSample(string fileName)
    {
        for (DirectoryInfo? dir = new(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    // Minimal safetensors reading for a test: u64 LE header length, JSON header, data; BF16 tensors only, the
    // exponent being bits 7..14 of each little-endian u16. The row length is the last dimension.
    internal static List<(string Name, byte[] Symbols, int Row)> ReadBf16Exponents(string path, int minElements)
    {
        byte[] file = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        using JsonDocument header = JsonDocument.Parse(file.AsMemory(8, headerLength));
        var result = new List<(string, byte[], int)>();
        foreach (JsonProperty tensor in header.RootElement.EnumerateObject())
        {
            if (tensor.Name == "__metadata__" || tensor.Value.GetProperty("dtype").GetString() != "BF16")
            {
                continue;
            }

            long[] shape = [.. tensor.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
            long[] offsets = [.. tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64())];
            int elements = checked((int)((offsets[1] - offsets[0]) / 2));
            if (elements < minElements)
            {
                continue;
            }

            ReadOnlySpan<byte> data = file.AsSpan(checked(8 + headerLength + (int)offsets[0]), elements * 2);
            byte[] symbols = new byte[elements];
            for (int i = 0; i < elements; i++)
            {
                symbols[i] = (byte)((BinaryPrimitives.ReadUInt16LittleEndian(data[(2 * i)..]) >> 7) & 0xFF);
            }

            string shortName = $"{tensor.Name[(tensor.Name.LastIndexOf('/') + 1)..]} [{string.Join('x', shape)}]";
            result.Add((shortName, symbols, shape.Length > 0 ? (int)shape[^1] : 0));
        }

        return result;
    }
}
