using System.CommandLine;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai verify</c>: check every tensor against its SHA-256.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "a .z4ai container (a plain .safetensors file gets a structure check only)" };
        var command = new Command("verify", "Check every tensor against its SHA-256. Prints 'integrity: PASS', or 'integrity: FAIL' and each failing tensor (exit code 3).\n" + ExitCodes.HelpText)
        {
            file,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file", path);
            }

            VerifyReport report = Z4AiContainer.Verify(path);
            if (!report.DigestsAvailable)
            {
                context.Output.WriteLine($"{path}: plain safetensors, structure valid ({report.TensorsChecked} tensors); it carries no digests to verify");
                return ExitCodes.Ok;
            }

            if (report.Passed)
            {
                context.Output.WriteLine($"integrity: PASS ({report.TensorsChecked} tensors)");
                return ExitCodes.Ok;
            }

            context.Output.WriteLine($"integrity: FAIL ({report.FailedTensors.Count} of {report.TensorsChecked} tensors)");
            foreach (string name in report.FailedTensors)
            {
                context.Output.WriteLine($"  corrupt: {name}");
            }

            return ExitCodes.IntegrityFailure;
        }));
        return command;
    }
}
