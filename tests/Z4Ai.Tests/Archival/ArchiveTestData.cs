using System.Text;

namespace Z4Ai.Tests.Archival;

internal static class ArchiveTestData
{
    public const string Prose =
        "The model was trained on a mixture of public text and code, then fine-tuned to follow instructions. "
        + "It may produce incorrect or biased output; review what it generates before you rely on it.\n";

    public const string Json =
        "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 2048, \"num_attention_heads\": 32, "
        + "\"num_hidden_layers\": 22, \"torch_dtype\": \"bfloat16\", \"vocab_size\": 32000}\n";

    public const string Code =
        "def load(path):\n    with open(path, \"r\", encoding=\"utf-8\") as f:\n        return json.load(f)\n";

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Repeat(string text, int times) => Utf8(string.Concat(Enumerable.Repeat(text, times)));

    public static byte[] RandomBytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Incompressible-looking bytes from an integer hash (no dependence on System.Random).</summary>
    public static byte[] Scrambled(int length)
    {
        byte[] data = new byte[length];
        for (uint i = 0; i < data.Length; i++)
        {
            uint h = (i + 1) * 0x9E3779B1u;
            h ^= h >> 15;
            h *= 0x2C1B3C6Du;
            data[i] = (byte)(h >> 24);
        }

        return data;
    }

    /// <summary>Word salad from a small vocabulary: compressible text of any length.</summary>
    public static byte[] Words(int length, int seed)
    {
        string[] vocabulary = ["the", "model", "weights", "are", "stored", "in", "a", "file", "with", "tensor", "data", "and", "its", "name", "shape", "type", "of", "each", "layer", "is", "kept", "\n", ",", "."];
        var random = new Random(seed);
        var sb = new StringBuilder();
        while (sb.Length < length)
        {
            sb.Append(vocabulary[random.Next(vocabulary.Length)]).Append(' ');
        }

        return Utf8(sb.ToString(0, length));
    }
}
