namespace Z4Ai.Tests.Certification;

/// <summary>
/// A deterministic task over <c>layer.weight</c>: example i predicts 1 when element i is positive; the labels are
/// the target's signs with every seventh one flipped, so the target is 6/7 right and small changes flip predictions
/// only near zero.
/// </summary>
internal sealed class CertificationTestTask(string targetPath, int examples = 2000) : ICertificationTask
{
    private readonly bool[] _labels = Labels(targetPath, examples);

    public string Name => "sign-test";

    public string Evaluator => "z4ai tests sign task v1";

    public Func<TaskEvaluation, TaskEvaluation>? Tamper { get; init; }

    public TaskEvaluation Evaluate(string modelPath, CancellationToken cancellationToken)
    {
        float[] w = SafeTensorsCompat.LoadTensor(modelPath, "layer.weight").ToSingleArray();
        int[] predictions = new int[_labels.Length];
        bool[] correct = new bool[_labels.Length];
        for (int i = 0; i < _labels.Length; i++)
        {
            predictions[i] = w[i] > 0 ? 1 : 0;
            correct[i] = (predictions[i] == 1) == _labels[i];
        }

        var result = new TaskEvaluation(
            "accuracy_percent", 100.0 * correct.Count(x => x) / correct.Length, true, correct.Length, predictions, correct, new string('a', 64));
        return Tamper is null ? result : Tamper(result);
    }

    private static bool[] Labels(string targetPath, int examples)
    {
        float[] w = SafeTensorsCompat.LoadTensor(targetPath, "layer.weight").ToSingleArray();
        return Enumerable.Range(0, examples).Select(i => (w[i] > 0) ^ (i % 7 == 0)).ToArray();
    }
}
