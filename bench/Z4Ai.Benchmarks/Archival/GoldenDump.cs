using System.Text;

namespace Z4Ai.Benchmarks.Archival;

public static class GoldenDump
{
    private static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    public static int Run(string[] args)
    {
        const string Prose =
            "The model was trained on a mixture of public text and code, then fine-tuned to follow instructions. "
            + "It may produce incorrect or biased output; review what it generates before you rely on it.\n";
        const string Json =
            "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 2048, \"num_attention_heads\": 32, "
            + "\"num_hidden_layers\": 22, \"torch_dtype\": \"bfloat16\", \"vocab_size\": 32000}\n";
        const string Code =
            "def load(path):\n    with open(path, \"r\", encoding=\"utf-8\") as f:\n        return json.load(f)\n";
        byte[] random = new byte[40];
        for (uint i = 0; i < random.Length; i++)
        {
            uint h = (i + 1) * 0x9E3779B1u;
            h ^= h >> 15;
            h *= 0x2C1B3C6Du;
            random[i] = (byte)(h >> 24);
        }
        var frames = new (byte[], ArchiveOptions)[]
        {
            (Encoding.UTF8.GetBytes(Prose), new ArchiveOptions { Preset = ArchivePreset.Prose }),
            (Encoding.UTF8.GetBytes(Json + Json), new ArchiveOptions { Preset = ArchivePreset.Json, UsePrimer = false, BlockSize = 200 }),
            (Encoding.UTF8.GetBytes(Code), new ArchiveOptions { Preset = ArchivePreset.Code }),
            (random, new ArchiveOptions()),
        };
        foreach ((byte[] input, ArchiveOptions options) in frames)
        {
            Console.WriteLine(Convert.ToHexStringLower(ArchiveCodec.Compress(input, options)));
        }

        byte[] data = new byte[300];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(120 + ((i * i) % 7) - ((i / 13) % 3));
        }

        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Z4Ai.Archival.SymbolCoder.TryEncode(data, ArchivePreset.Binary, writer, data.Length);
        Console.WriteLine(Convert.ToHexStringLower(writer.WrittenSpan));
        Console.WriteLine(Hash(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Z4Ai.Archival.Logistic.SquashValues)));
        Console.WriteLine(Hash(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Z4Ai.Archival.Logistic.StretchValues)));
        Console.WriteLine(Hash(Z4Ai.Archival.BitHistory.Transitions));
        Console.WriteLine(Z4Ai.Archival.BitHistory.Count);
        foreach (Z4Ai.Archival.Primer primer in Z4Ai.Archival.Primer.All)
        {
            Console.WriteLine(primer.Digest.ToString());
        }

        return 0;
    }
}
