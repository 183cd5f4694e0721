using System.CommandLine;

namespace Z4Ai.Cli.Commands;

/// <summary>Options shared by several commands, and the handling of <c>-</c> for standard input/output.</summary>
internal static class CommonOptions
{
    public const string StdioName = "-";

    public static Option<string?> Output(string description) => new("--output", "-o") { Description = description };

    public static Option<bool> Force() => new("--force", "-f") { Description = "overwrite the output if it exists" };

    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "print nothing but errors" };

    public static Option<string> Effort() => new Option<string>("--effort", "-e")
    {
        Description = "fast (decode speed first), default, max (smallest output) or archive (max plus the archival context-mixing model on every stream; slow both ways)",
        DefaultValueFactory = _ => "default",
    }.AcceptOnlyFromAmong("fast", "default", "max", "archive");

    public static CompressionEffort ParseEffort(string value) => value switch
    {
        "fast" => CompressionEffort.Fast,
        "max" => CompressionEffort.Max,
        "archive" => CompressionEffort.Archive,
        _ => CompressionEffort.Default,
    };

    public static void EnsureCanWrite(string path, bool force)
    {
        if (path != StdioName && File.Exists(path) && !force)
        {
            throw new CliUsageException($"{path} exists; pass --force to overwrite it");
        }
    }

    /// <summary>
    /// Containers need random access, so standard input is first copied to a temporary file (deleted afterwards).
    /// </summary>
    public static SpooledInput OpenInput(CliContext context, string path)
    {
        if (path != StdioName)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file", path);
            }

            return new SpooledInput(path, isTemporary: false);
        }

        string temp = Path.Combine(Path.GetTempPath(), $"z4ai-stdin-{Guid.NewGuid():N}.tmp");
        using (Stream stdin = context.OpenStandardInput())
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            stdin.CopyTo(file);
        }

        return new SpooledInput(temp, isTemporary: true);
    }
}

/// <summary>An input file, possibly a temporary copy of standard input that is deleted on dispose.</summary>
internal sealed class SpooledInput(string path, bool isTemporary) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose()
    {
        if (isTemporary)
        {
            File.Delete(Path);
        }
    }
}

/// <summary>Reports progress to standard error at most a few times a second.</summary>
internal sealed class ThrottledProgress(TextWriter error, bool quiet) : IProgress<ProgressInfo>
{
    private long _lastTicks;

    public void Report(ProgressInfo value)
    {
        if (quiet)
        {
            return;
        }

        long now = Environment.TickCount64;
        bool finished = value.BytesDone >= value.BytesTotal;
        if (!finished && now - _lastTicks < 500)
        {
            return;
        }

        _lastTicks = now;
        double percent = value.BytesTotal == 0 ? 100 : 100.0 * value.BytesDone / value.BytesTotal;
        error.WriteLine($"[{value.Stage}] {percent,5:0.0}%  {Units.Bytes(value.BytesDone)} / {Units.Bytes(value.BytesTotal)}  {value.Tensor}");
    }
}
