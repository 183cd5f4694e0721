namespace Z4Ai;

/// <summary>
/// Measures a model on a task, so a lossy reconstruction can be compared with the model it approximates. The same
/// task is run on the target and on the reconstruction; per-example predictions and correctness, when the task
/// gives them, drive the flip count and the exact McNemar test.
/// </summary>
public interface ICertificationTask
{
    /// <summary>A short name of the task, such as <c>fashion-mnist</c>.</summary>
    string Name { get; }

    /// <summary>Who measures, and how: an identity with a version, recorded in the certificate.</summary>
    string Evaluator { get; }

    /// <summary>Evaluates the model in a <c>.safetensors</c> file.</summary>
    /// <param name="modelPath">A plain safetensors file.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The metric and, where available, per-example results.</returns>
    /// <exception cref="Z4AiCertificationException">The evaluation failed (<see cref="Z4AiErrorKind.EvaluatorFailed"/>).</exception>
    TaskEvaluation Evaluate(string modelPath, CancellationToken cancellationToken);
}
