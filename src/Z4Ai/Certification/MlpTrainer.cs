using Z4Ai.Delta;

namespace Z4Ai.Certification;

/// <summary>
/// Trains a one-hidden-layer <see cref="MlpModel"/> with softmax cross-entropy and plain minibatch SGD, single
/// threaded, in a fixed order: the example order comes from a seeded SplitMix64 shuffle, gradients are summed in
/// example order with the same element-wise updates as the forward pass, and the exponential is computed with basic
/// IEEE operations only (<see cref="Exp"/>), so the same data and seed give the same weights on every machine.
/// </summary>
internal static class MlpTrainer
{
    /// <summary>Runs <paramref name="epochs"/> passes over <paramref name="examples"/> (indices into the data, repeats allowed).</summary>
    public static void Train(
        MlpModel model, FashionMnistData data, int[] examples, int epochs, float learningRate, int batchSize, ulong seed, CancellationToken ct)
    {
        if (model.Layers != 2)
        {
            throw new ArgumentException("the trainer handles one hidden layer", nameof(model));
        }

        int inputs = model.Sizes[0];
        int hidden = model.Sizes[1];
        int classes = model.Sizes[2];
        float[] w1 = model.WeightsT[0];
        float[] b1 = model.Biases[0];
        float[] w2 = model.WeightsT[1];
        float[] b2 = model.Biases[1];
        float[] gw1 = new float[w1.Length];
        float[] gb1 = new float[hidden];
        float[] gw2 = new float[w2.Length];
        float[] gb2 = new float[classes];
        bool[] touched = new bool[inputs];
        float[] x = new float[inputs];
        float[] z1 = new float[hidden];
        float[] h = new float[hidden];
        float[] gh = new float[hidden];
        float[] z2 = new float[classes];
        float[] g2 = new float[classes];
        int[] order = (int[])examples.Clone();
        ulong state = seed;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            for (int i = order.Length - 1; i > 0; i--)
            {
                state += 0x9E37_79B9_7F4A_7C15;
                int j = (int)(LossyQuantizer.Mix(state) % (ulong)(i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }

            for (int start = 0; start < order.Length; start += batchSize)
            {
                ct.ThrowIfCancellationRequested();
                int end = Math.Min(order.Length, start + batchSize);
                for (int s = start; s < end; s++)
                {
                    int example = order[s];
                    MlpModel.Normalize(data.Image(example), x);

                    // Forward.
                    b1.CopyTo(z1, 0);
                    for (int j = 0; j < inputs; j++)
                    {
                        if (x[j] != 0)
                        {
                            MlpModel.Axpy(z1, x[j], w1.AsSpan(j * hidden, hidden));
                        }
                    }

                    for (int k = 0; k < hidden; k++)
                    {
                        h[k] = Math.Max(z1[k], 0f);
                    }

                    b2.CopyTo(z2, 0);
                    for (int k = 0; k < hidden; k++)
                    {
                        if (h[k] != 0)
                        {
                            MlpModel.Axpy(z2, h[k], w2.AsSpan(k * classes, classes));
                        }
                    }

                    // Softmax cross-entropy gradient: p - onehot.
                    float max = z2[0];
                    for (int o = 1; o < classes; o++)
                    {
                        max = Math.Max(max, z2[o]);
                    }

                    float sum = 0;
                    for (int o = 0; o < classes; o++)
                    {
                        g2[o] = (float)Exp(z2[o] - max);
                        sum += g2[o];
                    }

                    for (int o = 0; o < classes; o++)
                    {
                        g2[o] /= sum;
                    }

                    g2[data.Labels[example]] -= 1f;

                    // Backward.
                    for (int o = 0; o < classes; o++)
                    {
                        gb2[o] += g2[o];
                    }

                    for (int k = 0; k < hidden; k++)
                    {
                        float acc = 0;
                        if (z1[k] > 0)
                        {
                            MlpModel.Axpy(gw2.AsSpan(k * classes, classes), h[k], g2);
                            for (int o = 0; o < classes; o++)
                            {
                                acc += w2[(k * classes) + o] * g2[o];
                            }
                        }

                        gh[k] = acc;
                        gb1[k] += acc;
                    }

                    for (int j = 0; j < inputs; j++)
                    {
                        if (x[j] != 0)
                        {
                            touched[j] = true;
                            MlpModel.Axpy(gw1.AsSpan(j * hidden, hidden), x[j], gh);
                        }
                    }
                }

                // Update: w += (-lr / B) · g, then clear. Rows of pixels that were zero in the whole batch have no gradient.
                float step = -learningRate / (end - start);
                for (int j = 0; j < inputs; j++)
                {
                    if (touched[j])
                    {
                        Span<float> g = gw1.AsSpan(j * hidden, hidden);
                        MlpModel.Axpy(w1.AsSpan(j * hidden, hidden), step, g);
                        g.Clear();
                        touched[j] = false;
                    }
                }

                MlpModel.Axpy(b1, step, gb1);
                MlpModel.Axpy(w2, step, gw2);
                MlpModel.Axpy(b2, step, gb2);
                Array.Clear(gb1);
                Array.Clear(gw2);
                Array.Clear(gb2);
            }
        }
    }

    /// <summary>
    /// e^x for x ≤ 0 from basic IEEE operations: x = k·ln 2 + r with |r| ≤ ln 2 / 2, a degree-13 Taylor polynomial
    /// for e^r (relative error below 1e-15), then an exact scaling by 2^k.
    /// </summary>
    public static double Exp(double x)
    {
        if (x < -700)
        {
            return 0;
        }

        // ln 2 split in two (Cody and Waite): k · Ln2High is exact, so r keeps full precision even for large k.
        const double Ln2 = 0.6931471805599453;
        const double Ln2High = 6.93147180369123816490e-01;
        const double Ln2Low = 1.90821492927058770002e-10;
        double k = Math.Round(x / Ln2, MidpointRounding.ToEven);
        double r = (x - (k * Ln2High)) - (k * Ln2Low);
        double term = 1;
        double sum = 1;
        for (int i = 1; i <= 13; i++)
        {
            term = term * r / i;
            sum += term;
        }

        return Math.ScaleB(sum, (int)k);
    }
}
