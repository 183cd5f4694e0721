using System.Buffers;
using System.Diagnostics;
using Z4Ai.Entropy;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary>
/// <c>row-class-probe</c>: decode speed of one entropy stream, a palette index stream of zigzagged steps in rows of
/// 128 whose spread changes from row to row (what a delta's Subtract chunk codes), coded with row classes at
/// K &lt;= 16, 8, 4 and 2, with order-0 and order-1 rANS, and with 64 states (entropy methods 5 and 6; order 0 also
/// through the grouped scalar decoder and the one-symbol oracle). Single thread; the variants take turns, round after round,
/// so a busy machine slows them alike; the first two rounds are warm-up.
/// </summary>
internal static class RowClassProbe
{
    private const int Symbols = 512 * 1024;
    private const int RowLength = 128;
    private const int Rounds = 20;
    private const int DecodesPerRound = 10;

    public static int Run(string[] args)
    {
        byte[] stream = StepIndices(new Random(3));
        var variants = new List<(string Name, byte[] Encoded, Action<byte[], byte[]> Decode)>();
        foreach (int k in new[] { 16, 8, 4, 2 })
        {
            RowClassModel model = RowClassModel.Build(stream, 8, RowLength, k)
                ?? throw new InvalidOperationException("the probe stream has too few rows for row classes");
            foreach (bool wide in new[] { false, true })
            {
                var writer = new ArrayBufferWriter<byte>();
                RowClassCodec.Encode(stream, model, writer, wide);
                EntropyMethod method = wide ? EntropyMethod.RansRowClassesWide : EntropyMethod.RansRowClasses;
                string states = wide ? $", 64 states ({WideRans.Best})" : string.Empty;
                variants.Add(($"row classes, K <= {k} (fitted {model.ClassCount}){states}", writer.WrittenSpan.ToArray(), Using(method)));
            }
        }

        foreach (EntropyMethod method in new[] { EntropyMethod.RansOrder0, EntropyMethod.RansOrder1, EntropyMethod.RansOrder0Wide })
        {
            var writer = new ArrayBufferWriter<byte>();
            EntropyCoder.Encode(stream, method, 8, 0, writer);
            string name = method == EntropyMethod.RansOrder0Wide ? $"{method} ({WideRans.Best})" : method.ToString();
            variants.Add((name, writer.WrittenSpan.ToArray(), Using(method)));
            if (method == EntropyMethod.RansOrder0Wide)
            {
                foreach (WideRans.Path path in WideRans.Available().Where(p => p != WideRans.Best))
                {
                    variants.Add(($"{method} ({path})", writer.WrittenSpan.ToArray(), (e, d) => DecodeWide(e, d, path)));
                }
            }
        }

        byte[] decoded = new byte[Symbols];
        double[] seconds = new double[variants.Count];
        for (int round = 0; round < Rounds; round++)
        {
            for (int v = 0; v < variants.Count; v++)
            {
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < DecodesPerRound; r++)
                {
                    variants[v].Decode(variants[v].Encoded, decoded);
                }

                if (round >= 2)
                {
                    seconds[v] += sw.Elapsed.TotalSeconds;
                }

                if (!decoded.AsSpan().SequenceEqual(stream))
                {
                    throw new InvalidOperationException($"{variants[v].Name} did not round-trip");
                }
            }
        }

        Console.WriteLine($"{Symbols} symbols in rows of {RowLength}, single thread, {Rounds - 2} rounds of {DecodesPerRound} decodes per variant");
        Console.WriteLine();
        Console.WriteLine("| coding | bytes | decode Msym/s |");
        Console.WriteLine("| --- | ---: | ---: |");
        for (int v = 0; v < variants.Count; v++)
        {
            double symbols = (double)Symbols * DecodesPerRound * (Rounds - 2);
            Console.WriteLine($"| {variants[v].Name} | {variants[v].Encoded.Length} | {symbols / seconds[v] / 1e6:F0} |");
        }

        return 0;
    }

    private static Action<byte[], byte[]> Using(EntropyMethod method) =>
        (encoded, decoded) => EntropyCoder.Decode(encoded, method, 8, RowLength, decoded);

    // A method-5 payload decoded on a given path: its one frequency table, then the 64-state body.
    private static void DecodeWide(byte[] encoded, byte[] decoded, WideRans.Path path)
    {
        var reader = new BitReader(encoded);
        uint[] freqs = new uint[256];
        FrequencyTable.Read(ref reader, 8, freqs);
        uint[] entries = new uint[FrequencyTable.ProbScale];
        RansCodec.FillEntries(freqs, entries);
        WideRans.Decode(encoded.AsSpan(reader.BytesConsumed), entries, [0], decoded.Length, decoded, path);
    }

    // Zigzagged integer steps, each row with a spread drawn from 16 levels (the structure row classes exist for).
    private static byte[] StepIndices(Random random)
    {
        byte[] stream = new byte[Symbols];
        double spread = 1;
        for (int i = 0; i < Symbols; i++)
        {
            if (i % RowLength == 0)
            {
                spread = 0.5 + (random.Next(16) * 0.4);
            }

            double gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            int step = (int)Math.Round(gaussian * spread);
            stream[i] = (byte)Math.Clamp((step << 1) ^ (step >> 31), 0, 255);
        }

        return stream;
    }
}
