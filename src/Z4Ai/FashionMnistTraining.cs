namespace Z4Ai;

/// <summary>How the built-in Fashion-MNIST task trains its base model and fine-tune (<see cref="FashionMnistTask.TrainModels"/>).</summary>
/// <param name="Hidden">Hidden units of the 784→Hidden→10 MLP.</param>
/// <param name="TrainExamples">Training images used (the first ones of the train split; 0 for all 60,000).</param>
/// <param name="BaseEpochs">Epochs of the base model.</param>
/// <param name="FineTuneExamples">The first this many training images form the fine-tune's subset.</param>
/// <param name="FineTuneEpochs">Epochs of the fine-tune.</param>
/// <param name="FineTuneClass">The class repeated in the fine-tune's subset (6 is "Shirt").</param>
/// <param name="FineTuneClassWeight">How many times each image of that class appears.</param>
/// <param name="LearningRate">SGD step size.</param>
/// <param name="BatchSize">Minibatch size.</param>
/// <param name="Seed">Seeds initialisation and shuffling.</param>
public sealed record FashionMnistTraining(
    int Hidden = 256,
    int TrainExamples = 0,
    int BaseEpochs = 3,
    int FineTuneExamples = 20000,
    int FineTuneEpochs = 2,
    int FineTuneClass = 6,
    int FineTuneClassWeight = 4,
    float LearningRate = 0.05f,
    int BatchSize = 32,
    ulong Seed = 1)
{
    /// <summary>The recipe of the benchmark: all 60,000 training images, 256 hidden units.</summary>
    public static FashionMnistTraining Default { get; } = new();

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Hidden, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Hidden, 4096);
        ArgumentOutOfRangeException.ThrowIfNegative(TrainExamples);
        ArgumentOutOfRangeException.ThrowIfNegative(BaseEpochs);
        ArgumentOutOfRangeException.ThrowIfNegative(FineTuneExamples);
        ArgumentOutOfRangeException.ThrowIfNegative(FineTuneEpochs);
        ArgumentOutOfRangeException.ThrowIfNegative(FineTuneClass);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(FineTuneClass, 9);
        ArgumentOutOfRangeException.ThrowIfLessThan(FineTuneClassWeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        if (!(LearningRate > 0) || float.IsInfinity(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "the learning rate must be positive and finite");
        }
    }
}
