using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Z4Ai.Integrity;

namespace Z4Ai.Certification;

/// <summary>
/// Runs a user's evaluation command on a model file and reads the JSON it prints. Every way it can go wrong (it
/// does not start, times out, exits non-zero, prints no JSON or the wrong JSON) becomes a precise
/// <see cref="Z4AiErrorKind.EvaluatorFailed"/> error.
/// </summary>
/// <remarks>
/// Expected output (the last JSON object on standard output; other lines are ignored):
/// <c>{"metric": 88.4, "metric_name": "accuracy_percent", "higher_is_better": true, "examples": 10000,
/// "predictions": [3, 1, ...], "correct": [true, false, ...] or [1, 0, ...], "data_sha256": "..."}</c>.
/// Only <c>metric</c> is required.
/// </remarks>
internal static class ExternalEvaluator
{
    private const int MaxOutputChars = 64 << 20;

    public static TaskEvaluation Run(ProcessStartInfo start, string description, TimeSpan timeout, CancellationToken ct)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;
        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        bool overflow = false;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stdout)
            {
                if (stdout.Length + e.Data.Length > MaxOutputChars)
                {
                    overflow = true;
                    return;
                }

                stdout.Append(e.Data).Append('\n');
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.Append(e.Data).Append('\n');
                if (stderr.Length > 8192)
                {
                    stderr.Remove(0, stderr.Length - 4096);
                }
            }
        };

        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            throw Failed($"the evaluator {description} could not be started: {ex.Message}", ex);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using (ct.Register(() => Kill(process)))
        {
            if (!process.WaitForExit(timeout))
            {
                Kill(process);
                throw Failed($"the evaluator {description} did not finish within {timeout.TotalSeconds:0} s and was stopped");
            }

            // Drains the asynchronous readers.
            process.WaitForExit();
        }

        ct.ThrowIfCancellationRequested();
        string errors;
        lock (stderr)
        {
            errors = stderr.ToString().Trim();
        }

        if (process.ExitCode != 0)
        {
            throw Failed($"the evaluator {description} exited with code {process.ExitCode}{Tail(errors)}");
        }

        if (overflow)
        {
            throw Failed($"the evaluator {description} printed more than {MaxOutputChars} characters");
        }

        string output;
        lock (stdout)
        {
            output = stdout.ToString();
        }

        return Parse(output, description);
    }

    /// <summary>Reads the result from an evaluator's standard output.</summary>
    public static TaskEvaluation Parse(string output, string description)
    {
        string? json = FindJson(output);
        if (json is null)
        {
            string shown = output.Trim();
            shown = shown.Length == 0 ? "nothing" : $"'{(shown.Length > 200 ? shown[..200] + "..." : shown)}'";
            throw Failed($"the evaluator {description} printed no JSON object on standard output (it printed {shown}); it must print e.g. {{\"metric\": 88.4}}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException ex)
        {
            throw Failed($"the evaluator {description} printed invalid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Failed($"the evaluator {description} printed JSON that is not an object");
            }

            if (!root.TryGetProperty("metric", out JsonElement metricElement) || metricElement.ValueKind != JsonValueKind.Number
                || !metricElement.TryGetDouble(out double metric) || !double.IsFinite(metric))
            {
                throw Failed($"the evaluator {description} printed JSON without a finite number 'metric'");
            }

            string name = OptionalString(root, "metric_name", description) ?? "metric";
            bool higherIsBetter = OptionalBool(root, "higher_is_better", description) ?? true;
            int[]? predictions = null;
            bool[]? correct = null;
            if (root.TryGetProperty("predictions", out JsonElement p) && p.ValueKind != JsonValueKind.Null)
            {
                predictions = ReadArray<int>(p, "predictions", description, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : null);
            }

            if (root.TryGetProperty("correct", out JsonElement c) && c.ValueKind != JsonValueKind.Null)
            {
                correct = ReadArray<bool>(c, "correct", description, e => e.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number when e.TryGetInt32(out int v) && v is 0 or 1 => v == 1,
                    _ => (bool?)null,
                });
            }

            int? examples = null;
            if (root.TryGetProperty("examples", out JsonElement ex) && ex.ValueKind != JsonValueKind.Null)
            {
                if (ex.ValueKind != JsonValueKind.Number || !ex.TryGetInt32(out int n) || n < 0)
                {
                    throw Failed($"the evaluator {description} printed an 'examples' that is not a non-negative integer");
                }

                examples = n;
            }

            int count = examples ?? predictions?.Length ?? correct?.Length ?? 0;
            if ((predictions is not null && predictions.Length != count) || (correct is not null && correct.Length != count))
            {
                throw Failed(
                    $"the evaluator {description} printed {predictions?.Length.ToString() ?? "no"} predictions and {correct?.Length.ToString() ?? "no"} correctness flags for {count} examples");
            }

            string? data = OptionalString(root, "data_sha256", description);
            if (data is not null && (!Sha256Digest.TryParse(data, out Sha256Digest d) || d.ToString() != data))
            {
                throw Failed($"the evaluator {description} printed a 'data_sha256' that is not 64 lowercase hex digits");
            }

            return new TaskEvaluation(name, metric, higherIsBetter, count, predictions, correct, data);
        }
    }

    private static string? FindJson(string output)
    {
        string trimmed = output.Trim();
        if (trimmed.StartsWith('{') && trimmed.EndsWith('}'))
        {
            return trimmed;
        }

        string[] lines = output.Split('\n');
        for (int i = lines.Length - 1; i >= 0; i--)
        {
            string line = lines[i].Trim();
            if (line.StartsWith('{'))
            {
                return line;
            }
        }

        return null;
    }

    private static T[] ReadArray<T>(JsonElement e, string name, string description, Func<JsonElement, T?> read)
        where T : struct
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw Failed($"the evaluator {description} printed a '{name}' that is not an array");
        }

        var values = new T[e.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in e.EnumerateArray())
        {
            values[i] = read(item) ?? throw Failed($"the evaluator {description} printed '{name}'[{i}] = {item.GetRawText()}, which is not valid there");
            i++;
        }

        return values;
    }

    private static string? OptionalString(JsonElement root, string name, string description)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw Failed($"the evaluator {description} printed a '{name}' that is not a string");
    }

    private static bool? OptionalBool(JsonElement root, string name, string description)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Failed($"the evaluator {description} printed a '{name}' that is not true or false"),
        };
    }

    private static string Tail(string errors) =>
        errors.Length == 0 ? " and printed nothing on standard error" : $"; standard error ends with: {(errors.Length > 500 ? "..." + errors[^500..] : errors)}";

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited in the meantime.
        }
    }

    private static Z4AiCertificationException Failed(string message, Exception? inner = null) =>
        new(Z4AiErrorKind.EvaluatorFailed, message, inner);
}
