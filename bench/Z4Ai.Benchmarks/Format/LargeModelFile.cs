using System.Globalization;
using Z4Ai.Format;

namespace Z4Ai.Benchmarks.Format;

/// <summary>
/// <c>make-large --size 2G -o FILE [--tensor-mib 64] [--change 0.01]</c>: writes a large .safetensors file of
/// realistic bf16 weights in 64 MiB tensors, streaming (never more than one tensor in memory), to measure memory and
/// throughput at scale. <c>--change F</c> writes the same weights with a fraction F of them moved by one bf16 step,
/// a consecutive checkpoint of the file written without it, so registry and delta runs at scale take the delta path.
/// </summary>
internal static class LargeModelFile
{
    public static int Run(string[] args)
    {
        long size = 2L << 30;
        string? output = null;
        int tensorMiB = 64;
        double change = 0;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--size":
                    size = ParseSize(args[++i]);
                    break;
                case "-o" or "--output":
                    output = args[++i];
                    break;
                case "--tensor-mib":
                    tensorMiB = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--change":
                    change = double.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}; usage: make-large --size 2G -o FILE [--tensor-mib 64] [--change 0.01]");
                    return 1;
            }
        }

        if (output is null)
        {
            Console.Error.WriteLine("usage: make-large --size 2G -o FILE [--tensor-mib 64]");
            return 1;
        }

        long tensorBytes = (long)tensorMiB << 20;
        int count = (int)Math.Max(1, size / tensorBytes);
        var inputs = Enumerable.Range(0, count)
            .Select(i => new SafeTensorsLayoutInput($"model.layers.{i}.weight", DType.BF16, [tensorBytes / 2 / 4096, 4096], tensorBytes))
            .ToList();
        SafeTensorsLayout layout = SafeTensorsFormat.CreateLayout(inputs, new Dictionary<string, string> { ["format"] = "pt" });
        byte[] buffer = new byte[tensorBytes];
        using (var stream = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(layout.HeaderBytes);
            for (int i = 0; i < layout.Tensors.Count; i++)
            {
                SyntheticWeights.FillBf16(buffer, (ulong)i + 1);
                if (change > 0)
                {
                    NudgeBf16(buffer, change, (ulong)i + 1000003);
                }

                stream.Write(buffer);
            }
        }

        Console.WriteLine($"{output}: {count} BF16 tensors of {tensorMiB} MiB, {new FileInfo(output).Length} bytes");
        return 0;
    }

    /// <summary>Moves a seeded fraction of the bf16 elements by one step of their bit pattern, away from or towards zero.</summary>
    private static void NudgeBf16(Span<byte> weights, double fraction, ulong seed)
    {
        var random = new Random(unchecked((int)seed));
        for (int i = 0; i + 1 < weights.Length; i += 2)
        {
            if (random.NextDouble() >= fraction)
            {
                continue;
            }

            ushort bits = (ushort)(weights[i] | (weights[i + 1] << 8));
            bool finiteNonZero = (bits & 0x7FFF) is > 0 and < 0x7F7F;
            if (finiteNonZero)
            {
                bits = (ushort)(random.Next(2) == 0 ? bits + 1 : bits - 1);
                weights[i] = (byte)bits;
                weights[i + 1] = (byte)(bits >> 8);
            }
        }
    }

    internal static long ParseSize(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        long multiplier = t[^1] switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        return long.Parse(multiplier == 1 ? t : t[..^1], CultureInfo.InvariantCulture) * multiplier;
    }
}
