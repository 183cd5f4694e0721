namespace Z4Ai.Fuzz;

/// <summary>
/// The small, deterministic models every target works with: a base, a fine-tune of it, and the byte reference the
/// buffer-delta target decodes against. Seeds are made from them, and the targets that need a base (model deltas,
/// lossy deltas) rebuild against the same base, so a mutated seed reaches the deep decode paths.
/// </summary>
internal static class FuzzModels
{
    /// <summary>The reference buffer of the <c>delta</c> target: 1,024 bytes of bf16-like values.</summary>
    public static byte[] DeltaReference { get; } = MakeReference();

    public static Dictionary<string, Tensor> Base() => Make(seed: 11, perturb: false);

    public static Dictionary<string, Tensor> FineTune() => Make(seed: 11, perturb: true);

    public static Dictionary<string, string> Metadata() => new() { ["format"] = "pt" };

    /// <summary>The reference with one value in eight changed, as a fine-tune changes a buffer.</summary>
    public static byte[] DeltaCurrent()
    {
        byte[] current = (byte[])DeltaReference.Clone();
        for (int i = 0; i < current.Length; i += 16)
        {
            current[i] ^= 0x05;
        }

        return current;
    }

    private static byte[] MakeReference()
    {
        var random = new Random(5);
        byte[] data = new byte[1024];
        for (int i = 0; i < data.Length; i += 2)
        {
            ushort bf16 = (ushort)(0x3C00 + random.Next(0, 0x600));
            data[i] = (byte)bf16;
            data[i + 1] = (byte)(bf16 >> 8);
        }

        return data;
    }

    private static Dictionary<string, Tensor> Make(int seed, bool perturb)
    {
        var random = new Random(seed);
        float[] weight = Floats(random, 64, 0.02f);
        float[] embed = Floats(random, 128, 0.1f);
        float[] bias = Floats(random, 8, 0.01f);
        float[] norm = Floats(random, 8, 1f);
        if (perturb)
        {
            var tweak = new Random(seed + 1);
            for (int i = 0; i < weight.Length; i += 3)
            {
                weight[i] += (float)(tweak.NextDouble() - 0.5) * 1e-3f;
            }

            for (int i = 0; i < embed.Length; i += 7)
            {
                embed[i] *= 1.001f;
            }
        }

        return new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["embed.weight"] = Tensor.FromArray<ushort>(DType.BF16, [16, 8], ToBf16(embed)),
            ["layer.0.weight"] = Tensor.FromArray<float>(DType.F32, [8, 8], weight),
            ["layer.0.bias"] = Tensor.FromArray<float>(DType.F32, [8], bias),
            ["norm"] = Tensor.FromArray<Half>(DType.F16, [8], norm.Select(v => (Half)v).ToArray()),
            ["ids"] = Tensor.FromArray<int>(DType.I32, [4], [1, 2, 3, perturb ? 5 : 4]),
            ["empty"] = Tensor.FromArray<float>(DType.F32, [0, 4], []),
        };
    }

    private static float[] Floats(Random random, int count, float scale)
    {
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }

    private static ushort[] ToBf16(float[] values) =>
        values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
}
