using System.CommandLine;
using Z4Ai.Cli.Commands;

namespace Z4Ai.Cli;

/// <summary>The <c>z4ai</c> command line: parsing, dispatch and exit codes.</summary>
public static class Z4AiCli
{
    private static readonly AsyncLocal<CliContext?> Context = new();

    /// <summary>Builds the root command with every sub-command.</summary>
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand(
            "z4ai: compressed, verified, randomly addressable storage for model weights.\n" + ExitCodes.HelpText)
        {
            CompressCommand.Create(),
            DecompressCommand.Create(),
            InfoCommand.Create(),
            VerifyCommand.Create(),
            GetTensorCommand.Create(),
            DeltaCommand.Create(),
            UndeltaCommand.Create(),
            DemoCommand.Create(),
            CertifyCommand.Create(),
            RegistryCommand.Create("registry"), RegistryCommand.Create("model-zoo"),
            ArchiveCommand.Create(), UnarchiveCommand.Create(),
        };
        return root;
    }

    /// <summary>Runs the command line on the console.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default) =>
        RunAsync(args, Console.Out, Console.Error, Console.OpenStandardInput, Console.OpenStandardOutput, cancellationToken);

    /// <summary>Runs the command line with the given text writers and standard streams (used by tests).</summary>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter output,
        TextWriter error,
        Func<Stream> openStandardInput,
        Func<Stream> openStandardOutput,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        Context.Value = new CliContext(output, error, openStandardInput, openStandardOutput);
        try
        {
            ParseResult parse = BuildRootCommand().Parse(args);
            var configuration = new InvocationConfiguration { Output = output, Error = error };
            return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Context.Value = null;
        }
    }

    internal static CliContext CurrentContext(ParseResult parseResult) =>
        Context.Value ?? new CliContext(
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error,
            Console.OpenStandardInput,
            Console.OpenStandardOutput);
}
