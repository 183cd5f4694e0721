using System.CommandLine;

namespace Z4Ai.Cli.Commands;

/// <summary><c>z4ai get-tensor</c>: fetch one tensor without reading the rest of the file.</summary>
internal static class GetTensorCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "a .z4ai container or a .safetensors file" };
        var name = new Argument<string>("name") { Description = "the tensor name" };
        Option<string?> output = CommonOptions.Output("where to write the tensor; - for standard output (required)");
        output.Required = true;
        var format = new Option<string>("--as") { Description = "raw (the tensor's bytes) or safetensors (a one-tensor file)", DefaultValueFactory = _ => "raw" }
            .AcceptOnlyFromAmong("raw", "safetensors");
        Option<bool> force = CommonOptions.Force();
        var command = new Command("get-tensor", "Fetch one tensor, reading only its own chunks and the index; it is SHA-256 verified before it is written.\n" + ExitCodes.HelpText)
        {
            file, name, output, format, force,
        };
        command.SetAction(parse => CliContext.Run(parse, context =>
        {
            string path = parse.GetValue(file)!;
            string tensorName = parse.GetValue(name)!;
            string outputPath = parse.GetValue(output)!;
            CommonOptions.EnsureCanWrite(outputPath, parse.GetValue(force));
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path}: no such file", path);
            }

            using SafeTensorsReader reader = SafeTensorsCompat.Open(path);
            Tensor tensor = reader.GetTensor(tensorName);
            bool asSafeTensors = parse.GetValue(format) == "safetensors";
            if (outputPath == CommonOptions.StdioName)
            {
                using Stream stdout = context.OpenStandardOutput();
                Write(stdout, tensorName, tensor, asSafeTensors);
                return ExitCodes.Ok;
            }

            if (asSafeTensors)
            {
                SafeTensorsCompat.SaveFile(
                    new Dictionary<string, Tensor> { [tensorName] = tensor }, outputPath, options: new SaveOptions { Format = StorageFormat.SafeTensors });
            }
            else
            {
                string temp = outputPath + ".partial";
                File.WriteAllBytes(temp, tensor.Data.ToArray());
                File.Move(temp, outputPath, overwrite: true);
            }

            context.Output.WriteLine($"{tensorName}: {tensor} -> {outputPath} ({Units.Bytes(tensor.Data.Length)}, read {Units.Bytes(reader.BytesRead)} of {Units.Bytes(new FileInfo(path).Length)})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Write(Stream stream, string name, Tensor tensor, bool asSafeTensors)
    {
        if (asSafeTensors)
        {
            SafeTensorsCompat.Save(new Dictionary<string, Tensor> { [name] = tensor }, stream, options: new SaveOptions { Format = StorageFormat.SafeTensors });
        }
        else
        {
            stream.Write(tensor.Data.Span);
        }
    }
}
