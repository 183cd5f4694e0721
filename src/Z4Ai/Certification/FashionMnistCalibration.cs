namespace Z4Ai.Certification;

/// <summary>
/// Input second moments <c>E[x xᵀ]</c> of every layer of an <see cref="MlpModel"/>, measured on training images:
/// the pixels for <c>fc1.weight</c>, the previous layer's activations for the others.
/// </summary>
internal sealed class FashionMnistCalibration : ILossyCalibration
{
    private readonly Dictionary<string, float[]> _moments = new(StringComparer.Ordinal);

    public FashionMnistCalibration(MlpModel model, FashionMnistData data)
    {
        float[][] activations = model.CreateActivations();
        float[] input = new float[FashionMnistData.Pixels];
        var sums = new double[model.Layers][];
        for (int l = 0; l < model.Layers; l++)
        {
            sums[l] = new double[model.Sizes[l] * model.Sizes[l]];
        }

        for (int s = 0; s < data.Count; s++)
        {
            MlpModel.Normalize(data.Image(s), input);
            model.Forward(input, activations);
            for (int l = 0; l < model.Layers; l++)
            {
                ReadOnlySpan<float> x = l == 0 ? input : activations[l - 1];
                Accumulate(sums[l], x);
            }
        }

        for (int l = 0; l < model.Layers; l++)
        {
            float[] m = new float[sums[l].Length];
            for (int i = 0; i < m.Length; i++)
            {
                m[i] = (float)(sums[l][i] / Math.Max(1, data.Count));
            }

            _moments[MlpModel.WeightName(l)] = m;
        }
    }

    public ReadOnlyMemory<float> GetInputMoments(string tensorName, int columns) =>
        _moments.TryGetValue(tensorName, out float[]? m) && m.Length == columns * columns ? m : ReadOnlyMemory<float>.Empty;

    private static void Accumulate(double[] sum, ReadOnlySpan<float> x)
    {
        int n = x.Length;
        for (int j = 0; j < n; j++)
        {
            double xj = x[j];
            if (xj == 0)
            {
                continue;
            }

            Span<double> row = sum.AsSpan(j * n, n);
            for (int m = 0; m < n; m++)
            {
                row[m] += xj * x[m];
            }
        }
    }
}
