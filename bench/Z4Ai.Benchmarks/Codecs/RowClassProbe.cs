using System.Buffers;
using System.Diagnostics;
using Z4Ai.Entropy;

namespace Z4Ai.Benchmarks.Codecs;

/// <summary>
/// <c>row-class-probe</c>: decode speed of one entropy stream, a palette index stream of zigzagged steps in rows of
/// 128 whose spread changes from row to row (what a delta's Subtract chunk codes), coded with row classes at
/// K &lt;= 16, 8, 4 and 2 and with order-0 and order-1 rANS. Single thread; the variants take turns, round after
/// round, so a busy machine slows them alike; the first two rounds are warm-up.
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
        var variants = new List<(string Name, byte[] Encoded, EntropyMethod Method)>();
        foreach (int k in new[] { 16, 8, 4, 2 })
        {
            var writer = new ArrayBufferWriter<byte>();
            RowClassModel model = RowClassModel.Build(stream, 8, RowLength, k)
                ?? throw new InvalidOperationException("the probe stream has too few rows for row classes");
            RowClassCodec.Encode(stream, model, writer);
            variants.Add(($"row classes, K <= {k} (fitted {model.ClassCount})", writer.WrittenSpan.ToArray(), EntropyMethod.RansRowClasses));
        }

        foreach (EntropyMethod method in new[] { EntropyMethod.RansOrder0, EntropyMethod.RansOrder1 })
        {
            var writer = new ArrayBufferWriter<byte>();
            EntropyCoder.Encode(stream, method, 8, 0, writer);
            variants.Add((method.ToString(), writer.WrittenSpan.ToArray(), method));
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
                    EntropyCoder.Decode(variants[v].Encoded, variants[v].Method, 8, RowLength, decoded);
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
