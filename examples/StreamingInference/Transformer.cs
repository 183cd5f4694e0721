using System.Numerics.Tensors;

namespace StreamingInference;

/// <summary>
/// A decoder-only transformer forward pass in float: embedding, then per layer RMSNorm, causal multi-head attention
/// with rotary positions (rotate-half), a residual add, RMSNorm, a SwiGLU MLP and a residual add; then the final norm
/// and the lm head. Weights are BF16, widened one row at a time.
/// </summary>
/// <remarks>
/// The result is bit-for-bit the same however the weights arrive: every output element is computed by the same
/// sequence of operations on the same inputs, and the parallel matrix products split work by output row only, so
/// thread scheduling cannot change a sum's order.
/// </remarks>
public sealed class Transformer(ModelConfig config, IWeights weights)
{
    private const int RowsPerBlock = 16;

    /// <summary>Runs the prompt through the model and returns the logits, <c>tokens.Length x Vocab</c>, row-major.</summary>
    public float[] Forward(IReadOnlyList<int> tokens)
    {
        int t = tokens.Count;
        int d = config.Dim;
        foreach (int token in tokens)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(token);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, config.Vocab);
        }

        weights.Prefetch([ModelConfig.EmbedName, .. config.LayerNames(0)]);
        float[] x = new float[t * d];
        using (IWeight embed = weights.Open(ModelConfig.EmbedName))
        {
            for (int i = 0; i < t; i++)
            {
                embed.WidenRow(tokens[i], x.AsSpan(i * d, d));
            }
        }

        (float[] cos, float[] sin) = RopeTables(t);
        float[] h = new float[t * d];
        float[] q = new float[t * d];
        float[] k = new float[t * d];
        float[] v = new float[t * d];
        float[] attention = new float[t * d];
        float[] projected = new float[t * d];
        float[] gate = new float[t * config.Ffn];
        float[] up = new float[t * config.Ffn];
        for (int layer = 0; layer < config.Layers; layer++)
        {
            // Decode the next layer (or the head) while this one computes.
            weights.Prefetch(layer + 1 < config.Layers
                ? config.LayerNames(layer + 1)
                : [ModelConfig.FinalNormName, ModelConfig.LmHeadName]);
            string[] names = config.LayerNames(layer);

            RmsNorm(names[0], x, h, t);
            MatMul(names[1], h, q, t);
            MatMul(names[2], h, k, t);
            MatMul(names[3], h, v, t);
            Rope(q, cos, sin, t);
            Rope(k, cos, sin, t);
            Attend(q, k, v, attention, t);
            MatMul(names[4], attention, projected, t);
            TensorPrimitives.Add(x, projected, x);

            RmsNorm(names[5], x, h, t);
            MatMul(names[6], h, gate, t);
            MatMul(names[7], h, up, t);
            SwiGlu(gate, up);
            MatMul(names[8], gate, projected, t);
            TensorPrimitives.Add(x, projected, x);
        }

        RmsNorm(ModelConfig.FinalNormName, x, h, t);
        float[] logits = new float[t * config.Vocab];
        MatMul(ModelConfig.LmHeadName, h, logits, t);
        return logits;
    }

    // y[i] = x[i] / sqrt(mean(x[i]^2) + eps) * w, per token.
    private void RmsNorm(string name, float[] x, float[] y, int t)
    {
        int d = config.Dim;
        float[] w = new float[d];
        using (IWeight weight = weights.Open(name))
        {
            weight.WidenRow(0, w);
        }

        for (int i = 0; i < t; i++)
        {
            ReadOnlySpan<float> row = x.AsSpan(i * d, d);
            Span<float> output = y.AsSpan(i * d, d);
            float scale = 1f / MathF.Sqrt((TensorPrimitives.SumOfSquares(row) / d) + config.NormEps);
            TensorPrimitives.Multiply(row, scale, output);
            TensorPrimitives.Multiply(output, w, output);
        }
    }

    // y[token, row] = dot(W[row], x[token]) for a weight W of shape [rows, columns]; rows in parallel blocks.
    private void MatMul(string name, float[] x, float[] y, int t)
    {
        using IWeight w = weights.Open(name);
        int columns = w.Columns;
        int rows = (int)w.Rows;
        int blocks = (rows + RowsPerBlock - 1) / RowsPerBlock;
        Parallel.For(
            0,
            blocks,
            () => new float[columns],
            (block, _, scratch) =>
            {
                int end = Math.Min(rows, (block + 1) * RowsPerBlock);
                for (int row = block * RowsPerBlock; row < end; row++)
                {
                    w.WidenRow(row, scratch);
                    for (int i = 0; i < t; i++)
                    {
                        y[(i * rows) + row] = TensorPrimitives.Dot(scratch, x.AsSpan(i * columns, columns));
                    }
                }

                return scratch;
            },
            _ => { });
    }

    private (float[] Cos, float[] Sin) RopeTables(int t)
    {
        int half = config.HeadDim / 2;
        float[] cos = new float[t * half];
        float[] sin = new float[t * half];
        for (int p = 0; p < t; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p * Math.Pow(config.RopeTheta, -2.0 * i / config.HeadDim);
                cos[(p * half) + i] = (float)Math.Cos(angle);
                sin[(p * half) + i] = (float)Math.Sin(angle);
            }
        }

        return (cos, sin);
    }

    // Rotate-half RoPE: within each head, element i pairs with i + half.
    private void Rope(float[] x, float[] cos, float[] sin, int t)
    {
        int hd = config.HeadDim;
        int half = hd / 2;
        for (int p = 0; p < t; p++)
        {
            for (int head = 0; head < config.Heads; head++)
            {
                Span<float> vector = x.AsSpan((p * config.Dim) + (head * hd), hd);
                for (int i = 0; i < half; i++)
                {
                    float a = vector[i];
                    float b = vector[i + half];
                    float c = cos[(p * half) + i];
                    float s = sin[(p * half) + i];
                    vector[i] = (a * c) - (b * s);
                    vector[i + half] = (b * c) + (a * s);
                }
            }
        }
    }

    // Causal softmax attention per head: position p attends to positions 0..p.
    private void Attend(float[] q, float[] k, float[] v, float[] output, int t)
    {
        int hd = config.HeadDim;
        int d = config.Dim;
        float scale = 1f / MathF.Sqrt(hd);
        float[] scores = new float[t];
        float[] weightsRow = new float[t];
        Array.Clear(output);
        for (int head = 0; head < config.Heads; head++)
        {
            for (int p = 0; p < t; p++)
            {
                ReadOnlySpan<float> query = q.AsSpan((p * d) + (head * hd), hd);
                for (int s = 0; s <= p; s++)
                {
                    scores[s] = TensorPrimitives.Dot(query, k.AsSpan((s * d) + (head * hd), hd)) * scale;
                }

                TensorPrimitives.SoftMax(scores.AsSpan(0, p + 1), weightsRow.AsSpan(0, p + 1));
                Span<float> target = output.AsSpan((p * d) + (head * hd), hd);
                for (int s = 0; s <= p; s++)
                {
                    TensorPrimitives.MultiplyAdd(v.AsSpan((s * d) + (head * hd), hd), weightsRow[s], target, target);
                }
            }
        }
    }

    // gate = silu(gate) * up, where silu(g) = g * sigmoid(g).
    private static void SwiGlu(float[] gate, float[] up)
    {
        float[] sigmoid = new float[gate.Length];
        TensorPrimitives.Sigmoid(gate, sigmoid);
        TensorPrimitives.Multiply(gate, sigmoid, gate);
        TensorPrimitives.Multiply(gate, up, gate);
    }
}
