using System.Buffers;
using Z4Ai.Entropy;

namespace Z4Ai.Tests.Entropy;

internal static class EntropyTestHelpers
{
    public static readonly EntropyMethod[] AllMethods = [EntropyMethod.RansOrder0, EntropyMethod.RansOrder1, EntropyMethod.ContextMixing, EntropyMethod.RansOrder0Wide];

    // Test methods are public and EntropyMethod is internal, so test cases carry the method's file-format value.
    public static readonly int[] AllMethodIds = [.. AllMethods.Select(m => (int)m)];

    public static byte[] Encode(ReadOnlySpan<byte> symbols, EntropyMethod method, int alphabetBits = 8, int rowLength = 0)
    {
        var writer = new ArrayBufferWriter<byte>();
        int written = EntropyCoder.Encode(symbols, method, alphabetBits, rowLength, writer);
        if (written != writer.WrittenCount)
        {
            throw new InvalidOperationException($"Encode reported {written} bytes but wrote {writer.WrittenCount}");
        }

        return writer.WrittenSpan.ToArray();
    }

    public static byte[] Decode(ReadOnlySpan<byte> encoded, int count, EntropyMethod method, int alphabetBits = 8, int rowLength = 0)
    {
        byte[] symbols = new byte[count];
        EntropyCoder.Decode(encoded, method, alphabetBits, rowLength, symbols);
        return symbols;
    }

    public static bool RoundTrips(byte[] symbols, EntropyMethod method, int alphabetBits = 8, int rowLength = 0)
    {
        byte[] encoded = Encode(symbols, method, alphabetBits, rowLength);
        return Decode(encoded, symbols.Length, method, alphabetBits, rowLength).AsSpan().SequenceEqual(symbols);
    }
}
