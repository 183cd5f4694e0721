using System.Globalization;

namespace StreamingInference;

/// <summary>
/// The shape of a decoder-only transformer (Llama-style names and layout): token embedding, per layer RMSNorm,
/// causal multi-head attention with rotary positions, RMSNorm and a SwiGLU MLP, then a final norm and the lm head.
/// </summary>
public sealed record ModelConfig(int Layers, int Dim, int Heads, int Ffn, int Vocab, float RopeTheta = 10000f, float NormEps = 1e-5f)
{
    public const string EmbedName = "model.embed_tokens.weight";
    public const string FinalNormName = "model.norm.weight";
    public const string LmHeadName = "lm_head.weight";

    private static readonly string[] LayerParts =
    [
        "input_layernorm.weight",
        "self_attn.q_proj.weight",
        "self_attn.k_proj.weight",
        "self_attn.v_proj.weight",
        "self_attn.o_proj.weight",
        "post_attention_layernorm.weight",
        "mlp.gate_proj.weight",
        "mlp.up_proj.weight",
        "mlp.down_proj.weight",
    ];

    public int HeadDim => Dim / Heads;

    public static string LayerTensor(int layer, string part) => $"model.layers.{layer}.{part}";

    /// <summary>Every tensor in execution order (which is also the order the generator stores them in).</summary>
    public IReadOnlyList<(string Name, long[] Shape)> Layout()
    {
        var tensors = new List<(string, long[])> { (EmbedName, [Vocab, Dim]) };
        for (int layer = 0; layer < Layers; layer++)
        {
            foreach (string part in LayerParts)
            {
                tensors.Add((LayerTensor(layer, part), ShapeOf(part)));
            }
        }

        tensors.Add((FinalNormName, [Dim]));
        tensors.Add((LmHeadName, [Vocab, Dim]));
        return tensors;
    }

    /// <summary>The names of one layer's tensors, in the order the forward pass uses them.</summary>
    public string[] LayerNames(int layer) => LayerParts.Select(p => LayerTensor(layer, p)).ToArray();

    /// <summary>Bytes of one layer's weights in BF16.</summary>
    public long LayerBytes => LayerParts.Sum(p => ShapeOf(p).Aggregate(2L, (a, d) => a * d));

    /// <summary>Bytes of the whole model in BF16.</summary>
    public long TotalBytes => Layout().Sum(t => t.Shape.Aggregate(2L, (a, d) => a * d));

    public Dictionary<string, string> ToMetadata() => new()
    {
        ["format"] = "pt",
        ["z4ai.example"] = "streaming-inference",
        ["layers"] = Layers.ToString(CultureInfo.InvariantCulture),
        ["dim"] = Dim.ToString(CultureInfo.InvariantCulture),
        ["heads"] = Heads.ToString(CultureInfo.InvariantCulture),
        ["ffn"] = Ffn.ToString(CultureInfo.InvariantCulture),
        ["vocab"] = Vocab.ToString(CultureInfo.InvariantCulture),
        ["rope_theta"] = RopeTheta.ToString("R", CultureInfo.InvariantCulture),
        ["norm_eps"] = NormEps.ToString("R", CultureInfo.InvariantCulture),
    };

    public static ModelConfig FromMetadata(IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null || !metadata.ContainsKey("z4ai.example"))
        {
            throw new InvalidDataException("the file carries no example model configuration in its metadata; make one with --generate");
        }

        int Int(string key) => int.Parse(metadata[key], CultureInfo.InvariantCulture);
        float Float(string key) => float.Parse(metadata[key], CultureInfo.InvariantCulture);
        return new ModelConfig(Int("layers"), Int("dim"), Int("heads"), Int("ffn"), Int("vocab"), Float("rope_theta"), Float("norm_eps"));
    }

    public void Validate()
    {
        if (Layers < 1 || Dim < 2 || Heads < 1 || Ffn < 1 || Vocab < 2 || Dim % Heads != 0 || HeadDim % 2 != 0)
        {
            throw new ArgumentException($"invalid model shape {this}: need layers, dim, heads, ffn, vocab >= 1 and an even head size dividing dim");
        }
    }

    public override string ToString() => $"layers={Layers} dim={Dim} heads={Heads} ffn={Ffn} vocab={Vocab}";

    private long[] ShapeOf(string part) => part switch
    {
        "input_layernorm.weight" or "post_attention_layernorm.weight" => [Dim],
        "mlp.gate_proj.weight" or "mlp.up_proj.weight" => [Ffn, Dim],
        "mlp.down_proj.weight" => [Dim, Ffn],
        _ => [Dim, Dim],
    };
}
