using System.CommandLine;
using System.Diagnostics;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai undelta</c>: rebuild a checkpoint from its delta (or a chain of deltas) and the base model.</summary>
internal static class UndeltaCommand
{
    public static Command Create()
    {
        var deltas = new Argument<string[]>("delta")
        {
            Description = "the delta file; several for a chain, oldest first (each made against the model the one before it rebuilds)",
            Arity = ArgumentArity.OneOrMore,
        };
        var @base = new Option<string>("--base", "-b") { Description = "the model the (first) delta was made against (.safetensors or .z4ai)", Required = true };
        Option<string?> output = CommonOptions.Output($"the .safetensors file to write (default: the last DELTA without {DeltaCodec.FileExtension})");
        var stats = new Option<bool>("--stats") { Description = "print time, throughput and the process's peak memory" };
        Option<bool> force = CommonOptions.Force();
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command(
            "undelta",
            "Rebuild the file a delta was made from, byte for byte, from the delta and its base. With several deltas, walk the chain tensor by tensor. "
            + "The base (and every link) is checked before anything is written, every tensor is verified, and nothing is written if a check fails.\n"
            + ExitCodes.HelpText)
        {
            deltas, @base, output, stats, force, quiet,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string[] chain = parse.GetValue(deltas)!;
            string basePath = parse.GetValue(@base)!;
            bool lossy = chain.Length == 1 && File.Exists(chain[0]) && LossyDelta.IsLossyDelta(chain[0]);
            string outputPath = parse.GetValue(output) ?? (lossy ? LossyDeltaCli.DefaultUndeltaOutput(chain[0]) : DefaultOutput(chain[^1]));
            if (chain.Contains(CommonOptions.StdioName) || basePath == CommonOptions.StdioName || outputPath == CommonOptions.StdioName)
            {
                throw new CliUsageException("undelta reads and writes files; standard streams are not supported");
            }

            foreach (string path in chain)
            {
                DeltaCommand.RequireFile(path);
            }

            DeltaCommand.RequireFile(basePath);
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            var clock = Stopwatch.StartNew();
            if (lossy)
            {
                // A lossy delta rebuilds its reconstruction (checked tensor by tensor against the recorded digests), not the target.
                LossyDelta.Reconstruct(chain[0], basePath, outputPath, new ThrottledProgress(context.Error, parse.GetValue(quiet)));
            }
            else
            {
                DeltaCodec.DecompressChain(chain, basePath, outputPath, new ThrottledProgress(context.Error, parse.GetValue(quiet)));
            }

            long restored = new FileInfo(outputPath).Length;
            if (!parse.GetValue(quiet))
            {
                string links = chain.Length == 1 ? chain[0] : $"{chain.Length} deltas ({chain[0]} .. {chain[^1]})";
                context.Output.WriteLine(lossy
                    ? $"{links} on {basePath} -> {outputPath}: reconstructed {Units.Bytes(restored)} (lossy: an approximation of the target), every tensor verified"
                    : $"{links} on {basePath} -> {outputPath}: restored {Units.Bytes(restored)}, every tensor verified");
            }

            if (parse.GetValue(stats))
            {
                context.Output.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(restored, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string DefaultOutput(string delta)
    {
        if (!delta.EndsWith(DeltaCodec.FileExtension, StringComparison.OrdinalIgnoreCase))
        {
            throw new CliUsageException("cannot derive the output name: pass -o OUTPUT");
        }

        string output = delta[..^DeltaCodec.FileExtension.Length];
        return output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? output : output + ".safetensors";
    }
}
