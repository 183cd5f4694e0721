using Z4Ai.Certification;

namespace Z4Ai;

/// <summary>
/// The built-in certification task: classification accuracy (in percent) of a 784→H→10 ReLU MLP (tensors
/// <c>fc1.weight</c>, <c>fc1.bias</c>, <c>fc2.weight</c>, <c>fc2.bias</c>, F32/F16/BF16) on the Fashion-MNIST test
/// split, read from Debian's <c>dataset-fashion-mnist</c> package (or the folder in <c>Z4AI_FASHION_MNIST_DIR</c>).
/// </summary>
/// <remarks>
/// The data digest is the SHA-256 of the pixels of the images used (784 bytes each) followed by their labels. The
/// forward pass is deterministic (see docs/lossy.md), so a model always gets the same predictions.
/// </remarks>
public sealed class FashionMnistTask : ICertificationTask
{
    private readonly string? _dataDirectory;
    private readonly int _limit;
    private FashionMnistData? _test;

    /// <summary>Creates the task.</summary>
    /// <param name="dataDirectory">The folder of the idx files; null for <c>Z4AI_FASHION_MNIST_DIR</c> or Debian's location.</param>
    /// <param name="limit">Evaluate the first this many test images; 0 (the default) for all 10,000.</param>
    public FashionMnistTask(string? dataDirectory = null, int limit = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        _dataDirectory = dataDirectory;
        _limit = limit;
    }

    /// <inheritdoc />
    public string Name => "fashion-mnist";

    /// <inheritdoc />
    public string Evaluator => "z4ai fashion-mnist mlp evaluator v1";

    /// <summary>True when the data set's test split is installed where the task looks.</summary>
    public static bool IsDataAvailable(string? dataDirectory = null) => FashionMnistData.IsAvailable(dataDirectory);

    /// <inheritdoc />
    public TaskEvaluation Evaluate(string modelPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        FashionMnistData test = _test ??= FashionMnistData.Load(_dataDirectory, train: false, _limit);
        MlpModel model = MlpModel.Load(modelPath, FashionMnistData.Pixels, FashionMnistData.Classes);
        float[][] activations = model.CreateActivations();
        float[] input = new float[FashionMnistData.Pixels];
        int[] predictions = new int[test.Count];
        bool[] correct = new bool[test.Count];
        int right = 0;
        for (int i = 0; i < test.Count; i++)
        {
            if ((i & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            MlpModel.Normalize(test.Image(i), input);
            model.Forward(input, activations);
            predictions[i] = MlpModel.ArgMax(activations[^1]);
            correct[i] = predictions[i] == test.Labels[i];
            right += correct[i] ? 1 : 0;
        }

        double accuracy = test.Count == 0 ? 0 : 100.0 * right / test.Count;
        return new TaskEvaluation("accuracy_percent", accuracy, true, test.Count, predictions, correct, test.Sha256);
    }

    /// <summary>
    /// Trains (or reuses, when files with the same recipe exist) the task's base model and its fine-tune in
    /// <paramref name="directory"/>: <c>fashion-mnist-base.safetensors</c> and <c>fashion-mnist-finetune.safetensors</c>.
    /// </summary>
    /// <param name="directory">Where to write the models.</param>
    /// <param name="training">The recipe; <see cref="FashionMnistTraining.Default"/> when null.</param>
    /// <param name="dataDirectory">The folder of the idx files, or null.</param>
    /// <param name="cancellationToken">Cancels training.</param>
    /// <returns>The paths of the base and the fine-tune.</returns>
    /// <exception cref="Z4AiCertificationException">The data set is missing or malformed (<see cref="Z4AiErrorKind.EvaluatorFailed"/>).</exception>
    public static (string BasePath, string FineTunePath) TrainModels(
        string directory, FashionMnistTraining? training = null, string? dataDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        training ??= FashionMnistTraining.Default;
        training.Validate();
        return FashionMnistModels.Create(directory, training, dataDirectory, cancellationToken);
    }

    /// <summary>
    /// Input statistics of <paramref name="modelPath"/>'s layers on the first <paramref name="examples"/> training
    /// images, for refining 1-bit scales (<see cref="LossyOptions.RefineScales"/>).
    /// </summary>
    public static ILossyCalibration CreateCalibration(string modelPath, int examples = 2000, string? dataDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(examples, 1);
        MlpModel model = MlpModel.Load(modelPath, FashionMnistData.Pixels, FashionMnistData.Classes);
        return new FashionMnistCalibration(model, FashionMnistData.Load(dataDirectory, train: true, examples));
    }
}
