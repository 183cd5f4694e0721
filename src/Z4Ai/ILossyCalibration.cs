namespace Z4Ai;

/// <summary>
/// Statistics of the inputs a weight tensor sees, used to refine 1-bit scales so they minimise the error of the
/// layer's output rather than of the weights (<see cref="LossyOptions.RefineScales"/>).
/// </summary>
/// <remarks>
/// For a weight tensor viewed as rows of <c>columns</c> elements (its last dimension, the input features of a
/// linear layer stored <c>[out, in]</c>), return the second moments of its inputs: either the diagonal
/// <c>E[x_j²]</c> (<c>columns</c> values) or the full matrix <c>E[x xᵀ]</c> (<c>columns²</c> values, row-major).
/// The full matrix gives the exact least-squares scale per row; the diagonal ignores correlations between inputs.
/// </remarks>
public interface ILossyCalibration
{
    /// <summary>The input moments for <paramref name="tensorName"/>, or an empty value when none are known.</summary>
    /// <param name="tensorName">The weight tensor.</param>
    /// <param name="columns">Its last dimension.</param>
    ReadOnlyMemory<float> GetInputMoments(string tensorName, int columns);
}
