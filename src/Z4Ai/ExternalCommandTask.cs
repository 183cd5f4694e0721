using System.Diagnostics;
using Z4Ai.Certification;

namespace Z4Ai;

/// <summary>
/// A certification task run by any program: the command gets the path of a <c>.safetensors</c> file as its last
/// argument (and in <c>Z4AI_MODEL_PATH</c>) and prints one JSON object, such as
/// <c>{"metric": 88.4, "metric_name": "accuracy_percent", "higher_is_better": true, "predictions": [...],
/// "correct": [...], "data_sha256": "..."}</c>. Only <c>metric</c> is required; per-example <c>correct</c> flags
/// enable the McNemar test and <c>predictions</c> the flip count.
/// </summary>
public sealed class ExternalCommandTask : ICertificationTask
{
    private readonly string? _shellCommand;
    private readonly string? _fileName;
    private readonly string[] _arguments;

    /// <summary>Runs <paramref name="command"/> through the shell (<c>/bin/sh -c</c>, or <c>cmd /c</c> on Windows) with the model path appended.</summary>
    /// <param name="command">The command line, such as <c>python eval.py --split test</c>.</param>
    /// <param name="name">The task name recorded in certificates.</param>
    public ExternalCommandTask(string command, string name = "external")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _shellCommand = command;
        _arguments = [];
        Name = name;
    }

    /// <summary>Runs <paramref name="fileName"/> directly (no shell) with <paramref name="arguments"/> and then the model path.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments before the model path.</param>
    /// <param name="name">The task name recorded in certificates.</param>
    public ExternalCommandTask(string fileName, IEnumerable<string> arguments, string name = "external")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _fileName = fileName;
        _arguments = arguments.ToArray();
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Evaluator => _shellCommand is not null
        ? $"command: {_shellCommand}"
        : $"command: {string.Join(' ', new[] { _fileName! }.Concat(_arguments))}";

    /// <summary>The longest an evaluation may run (default 1 hour).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);

    /// <inheritdoc />
    public TaskEvaluation Evaluate(string modelPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        string path = Path.GetFullPath(modelPath);
        var start = new ProcessStartInfo();
        if (_shellCommand is not null)
        {
            if (OperatingSystem.IsWindows())
            {
                start.FileName = "cmd.exe";
                start.ArgumentList.Add("/c");
                start.ArgumentList.Add($"{_shellCommand} \"{path}\"");
            }
            else
            {
                // The path is passed as $1, never spliced into the command text.
                start.FileName = "/bin/sh";
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(_shellCommand + " \"$1\"");
                start.ArgumentList.Add("z4ai-eval");
                start.ArgumentList.Add(path);
            }
        }
        else
        {
            start.FileName = _fileName!;
            foreach (string a in _arguments)
            {
                start.ArgumentList.Add(a);
            }

            start.ArgumentList.Add(path);
        }

        start.Environment["Z4AI_MODEL_PATH"] = path;
        return ExternalEvaluator.Run(start, $"'{Evaluator[9..]}'", Timeout, cancellationToken);
    }
}
