using System.Diagnostics;
using System.Security.Cryptography;

namespace Z4Ai.Cli.Tests;

/// <summary>
/// The real <c>z4ai</c> command as a child process (<c>dotnet Z4Ai.Cli.dll ...</c>), for the tests that kill it or run
/// several at once. Standard output and error are drained from the start, so a chatty child never blocks on a pipe.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _output;
    private readonly Task<string> _error;

    private CliProcess(IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Z4Ai.Cli.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        Arguments = string.Join(' ', args);
        Clock = Stopwatch.StartNew();
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        _output = _process.StandardOutput.ReadToEndAsync();
        _error = _process.StandardError.ReadToEndAsync();
    }

    /// <summary>The command line after <c>z4ai</c>, for messages.</summary>
    public string Arguments { get; }

    /// <summary>Started with the process.</summary>
    public Stopwatch Clock { get; }

    /// <summary>What <see cref="Process.ExitCode"/> reads for a process that died of SIGKILL.</summary>
    public const int SigKillExitCode = 137;

    public int ExitCode => _process.ExitCode;

    public static CliProcess Start(params string[] args) => new(args);

    /// <summary>Runs the command to its end and returns its exit code and everything it printed.</summary>
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using CliProcess process = Start(args);
        return await process.WaitAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Waits up to <paramref name="milliseconds"/>; if the process is still running then, kills it with SIGKILL
    /// (<see cref="Process.Kill(bool)"/> sends SIGKILL on Unix) and returns true.
    /// </summary>
    public async Task<bool> KillAfterAsync(int milliseconds)
    {
        bool exited = _process.WaitForExit(milliseconds);
        if (!exited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
        Clock.Stop();

        // 128 + 9: died of SIGKILL. Anything else ended on its own between the wait and the kill.
        return !exited && _process.ExitCode == SigKillExitCode;
    }

    public async Task<CliRun> WaitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        Clock.Stop();
        return new CliRun(_process.ExitCode, await _output.ConfigureAwait(false), await _error.ConfigureAwait(false), Clock.ElapsedMilliseconds);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    public static string Sha(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

internal sealed record CliRun(int ExitCode, string Output, string Error, long Milliseconds)
{
    public override string ToString() => $"exit {ExitCode} after {Milliseconds} ms\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
