using System.CommandLine;

namespace Z4Ai.Cli;

/// <summary>Where a command reads and writes: the console by default, replaceable in tests.</summary>
internal sealed class CliContext(TextWriter output, TextWriter error, Func<Stream> openStdin, Func<Stream> openStdout)
{
    public TextWriter Output { get; } = output;

    public TextWriter Error { get; } = error;

    public Stream OpenStandardInput() => openStdin();

    public Stream OpenStandardOutput() => openStdout();

    /// <summary>
    /// Runs a command body, turning the library's exceptions into a one-line message and a documented exit code.
    /// </summary>
    public static int Run(ParseResult parseResult, Func<CliContext, int> body)
    {
        CliContext context = Z4AiCli.CurrentContext(parseResult);
        try
        {
            return body(context);
        }
        catch (OperationCanceledException)
        {
            context.Error.WriteLine("z4ai: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Z4AiIntegrityException ex)
        {
            context.Error.WriteLine($"z4ai: integrity: FAIL: {ex.Message}");
            return ExitCodes.IntegrityFailure;
        }
        catch (Z4AiException ex)
        {
            context.Error.WriteLine($"z4ai: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (CliUsageException ex)
        {
            context.Error.WriteLine($"z4ai: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (ArgumentException ex)
        {
            context.Error.WriteLine($"z4ai: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.Error.WriteLine($"z4ai: {ex.Message}");
            return ExitCodes.IoError;
        }
    }
}

/// <summary>A problem with how a command was called, reported with exit code 1.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
