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
            bool lossy = chain.Length == 1 && chain[0] != CommonOptions.StdioName && File.Exists(chain[0]) && LossyDelta.IsLossyDelta(chain[0]);
            string outputPath = parse.GetValue(output)
                ?? (lossy ? LossyDeltaCli.DefaultUndeltaOutput(chain[0]) : chain[^1] == CommonOptions.StdioName ? CommonOptions.StdioName : DefaultOutput(chain[^1]));
            DeltaCommand.RequireOneStdin([.. chain, basePath]);
            if (lossy && (basePath == CommonOptions.StdioName || outputPath == CommonOptions.StdioName))
            {
                throw new CliUsageException("a lossy delta is reconstructed from and into files: pass files, not -");
            }

            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            bool toStdout = outputPath == CommonOptions.StdioName;
            var clock = Stopwatch.StartNew();
            long restored;

            // A delta keeps its index at its end and the base is read at random offsets, so an input on standard input
            // is first copied to a temporary file. The target is rebuilt and verified in a temporary file before any
            // byte reaches standard output, so a failed check writes nothing there either.
            var spooled = new List<SpooledInput>(chain.Length + 1);
            try
            {
                string[] links = new string[chain.Length];
                for (int i = 0; i < chain.Length; i++)
                {
                    spooled.Add(CommonOptions.OpenInput(context, chain[i]));
                    links[i] = spooled[^1].Path;
                }

                spooled.Add(CommonOptions.OpenInput(context, basePath));
                string baseFile = spooled[^1].Path;
                using var written = new StdoutStaging(context, outputPath);
                if (lossy)
                {
                    // A lossy delta rebuilds its reconstruction (checked tensor by tensor against the recorded digests), not the target.
                    LossyDelta.Reconstruct(links[0], baseFile, written.Path, new ThrottledProgress(context.Error, parse.GetValue(quiet)));
                }
                else
                {
                    DeltaCodec.DecompressChain(links, baseFile, written.Path, new ThrottledProgress(context.Error, parse.GetValue(quiet)));
                }

                restored = new FileInfo(written.Path).Length;
                written.Commit();
            }
            finally
            {
                foreach (SpooledInput input in spooled)
                {
                    input.Dispose();
                }
            }

            TextWriter summary = toStdout ? context.Error : context.Output;
            if (!parse.GetValue(quiet))
            {
                string links = chain.Length == 1 ? chain[0] : $"{chain.Length} deltas ({chain[0]} .. {chain[^1]})";
                summary.WriteLine(lossy
                    ? $"{links} on {basePath} -> {outputPath}: reconstructed {Units.Bytes(restored)} (lossy: an approximation of the target), every tensor verified"
                    : $"{links} on {basePath} -> {outputPath}: restored {Units.Bytes(restored)}, every tensor verified");
            }

            if (parse.GetValue(stats))
            {
                summary.WriteLine($"time: {clock.Elapsed.TotalSeconds:0.000} s, {Units.Rate(restored, clock.Elapsed)}, peak memory: {Units.Bytes(CompressCommand.PeakMemory())}");
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
