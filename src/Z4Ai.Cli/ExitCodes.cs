namespace Z4Ai.Cli;

/// <summary>The exit codes of every <c>z4ai</c> command (documented in the README and in <c>--help</c>).</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>Bad command line: unknown command or option, missing argument, invalid value.</summary>
    public const int Usage = 1;
    /// <summary>The input is not a valid file of the expected format (the message names file, tensor and offset).</summary>
    public const int BadInput = 2;
    /// <summary>Stored bytes failed their SHA-256 check.</summary>
    public const int IntegrityFailure = 3;
    /// <summary>A file could not be read or written (missing, permissions, disk full).</summary>
    public const int IoError = 4;
    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;

    internal const string HelpText =
        "Exit codes: 0 ok, 1 usage error, 2 invalid input, 3 integrity failure, 4 I/O error, 130 cancelled.";
}
