using NUnit.Framework;
using Z4Ai.Certification;

namespace Z4Ai.Tests.Certification;

/// <summary>The external-command evaluator: the output it accepts, and a precise error for everything else.</summary>
public class ExternalCommandTaskTests
{
    [Test]
    public void Parse_FullResult_ReadsEveryField()
    {
        TaskEvaluation e = ExternalEvaluator.Parse(
            "loading...\nstep 3/3\n{\"metric\": 12.5, \"metric_name\": \"perplexity\", \"higher_is_better\": false, \"predictions\": [1, 2, 3], \"correct\": [true, 0, 1], \"data_sha256\": \""
            + new string('b', 64) + "\"}\n",
            "'x'");
        Assert.That(e, Is.EqualTo(e with { }));
        Assert.That(e.Metric, Is.EqualTo(12.5));
        Assert.That(e.MetricName, Is.EqualTo("perplexity"));
        Assert.That(e.HigherIsBetter, Is.False);
        Assert.That(e.Examples, Is.EqualTo(3));
        Assert.That(e.Predictions, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(e.Correct, Is.EqualTo(new[] { true, false, true }));
    }

    [Test]
    public void Parse_MetricOnly_Defaults()
    {
        TaskEvaluation e = ExternalEvaluator.Parse("{\"metric\": 0.9}", "'x'");
        Assert.That((e.MetricName, e.HigherIsBetter, e.Examples, e.Predictions, e.Correct, e.DataSha256), Is.EqualTo(("metric", true, 0, (IReadOnlyList<int>?)null, (IReadOnlyList<bool>?)null, (string?)null)));
    }

    [TestCase("", "printed no JSON object")]
    [TestCase("accuracy is 91%", "printed no JSON object")]
    [TestCase("{\"metric\": ", "printed invalid JSON")]
    [TestCase("{\"accuracy\": 0.9}", "without a finite number 'metric'")]
    [TestCase("{\"metric\": \"high\"}", "without a finite number 'metric'")]
    [TestCase("{\"metric\": 1, \"predictions\": [1, 2], \"correct\": [1]}", "2 predictions and 1 correctness flags")]
    [TestCase("{\"metric\": 1, \"correct\": [1, 2]}", "'correct'[1] = 2")]
    [TestCase("{\"metric\": 1, \"predictions\": \"all\"}", "not an array")]
    [TestCase("{\"metric\": 1, \"data_sha256\": \"abc\"}", "64 lowercase hex digits")]
    [TestCase("{\"metric\": 1, \"higher_is_better\": \"yes\"}", "not true or false")]
    [TestCase("{\"metric\": 1, \"examples\": -4}", "non-negative integer")]
    public void Parse_Garbage_PreciseEvaluatorError(string output, string expected)
    {
        var ex = Assert.Throws<Z4AiCertificationException>(() => ExternalEvaluator.Parse(output, "'x'"));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.EvaluatorFailed));
        Assert.That(ex.Message, Does.Contain(expected));
    }

    [Test]
    public void Evaluate_ShellCommand_GetsTheModelPathAndItsJsonIsRead()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False, "the shell tests use /bin/sh");
        string dir = Directory.CreateTempSubdirectory("z4ai-eval-").FullName;
        try
        {
            string script = Path.Combine(dir, "eval.sh");
            File.WriteAllText(script, "echo \"evaluating $1\" >&2\necho \"{\\\"metric\\\": $(wc -c < \"$1\"), \\\"metric_name\\\": \\\"bytes\\\"}\"\n");
            string model = Path.Combine(dir, "model with spaces.safetensors");
            File.WriteAllBytes(model, new byte[123]);
            TaskEvaluation e = new ExternalCommandTask($"sh '{script}'").Evaluate(model, default);
            Assert.That(e.Metric, Is.EqualTo(123));
            Assert.That(e.MetricName, Is.EqualTo("bytes"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Evaluate_FailingCommands_PreciseErrors()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False, "the shell tests use /bin/sh");
        string model = Path.GetTempFileName();
        try
        {
            AssertFails(new ExternalCommandTask("echo 'out of memory' >&2; exit 3; true"), model, "exited with code 3", "out of memory");
            AssertFails(new ExternalCommandTask("echo hello; true"), model, "printed no JSON object", "'hello'");
            AssertFails(new ExternalCommandTask("echo '{\"metric\": NaN}'; true"), model, "invalid JSON");
            AssertFails(new ExternalCommandTask("/nonexistent/z4ai-evaluator", []), model, "could not be started");
            AssertFails(new ExternalCommandTask("sleep 5; true") { Timeout = TimeSpan.FromMilliseconds(200) }, model, "did not finish within");
        }
        finally
        {
            File.Delete(model);
        }
    }

    private static void AssertFails(ExternalCommandTask task, string model, params string[] expected)
    {
        var ex = Assert.Throws<Z4AiCertificationException>(() => task.Evaluate(model, default));
        Assert.That(ex!.Kind, Is.EqualTo(Z4AiErrorKind.EvaluatorFailed));
        foreach (string text in expected)
        {
            Assert.That(ex.Message, Does.Contain(text));
        }
    }
}
