using System.Globalization;

namespace Z4Ai.Benchmarks.Corpus;

/// <summary>The command line of the corpus runner (see <see cref="CorpusRunner"/>).</summary>
internal sealed class CorpusOptions
{
    public int Mib { get; private set; } = 32;

    public int Runs { get; private set; } = 3;

    public ulong Seed { get; private set; } = 20240603;

    public CompressionEffort Effort { get; private set; } = CompressionEffort.Default;

    public IReadOnlyList<string> Only { get; private set; } = [];

    public string? DataDirectory { get; private set; }

    public string? OutputPath { get; private set; }

    public bool Real { get; private set; } = true;

    public bool External { get; private set; } = true;

    /// <summary>Log every case's leaf streams (path, coder, raw and coded bytes) while measuring.</summary>
    public bool Streams { get; private set; }

    /// <summary>The arguments as given, for the report's command line (a --data path shown relative).</summary>
    public string CommandLine { get; private set; } = string.Empty;

    public bool Selects(string name) =>
        Only.Count == 0 || Only.Any(o => name.Contains(o, StringComparison.OrdinalIgnoreCase));

    /// <exception cref="ArgumentException">An option is unknown or its value is missing or invalid.</exception>
    public static CorpusOptions Parse(string[] args)
    {
        var options = new CorpusOptions();
        var shown = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{arg} needs a value");
                }

                return args[++i];
            }

            switch (arg)
            {
                case "--mib":
                    options.Mib = PositiveInt(arg, Value(), max: 1024);
                    shown.Add($"{arg} {options.Mib}");
                    break;
                case "--runs":
                    options.Runs = PositiveInt(arg, Value(), max: 100);
                    shown.Add($"{arg} {options.Runs}");
                    break;
                case "--seed":
                    options.Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture);
                    shown.Add($"{arg} {options.Seed}");
                    break;
                case "--effort":
                    string effort = Value();
                    if (!Enum.TryParse(effort, ignoreCase: true, out CompressionEffort e) || !Enum.IsDefined(e))
                    {
                        throw new ArgumentException($"--effort must be one of {string.Join(", ", Enum.GetNames<CompressionEffort>())}");
                    }

                    options.Effort = e;
                    shown.Add($"{arg} {e}");
                    break;
                case "--only":
                    options.Only = [.. options.Only, .. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    shown.Add($"{arg} {args[i]}");
                    break;
                case "--data":
                    options.DataDirectory = Path.GetFullPath(Value());
                    shown.Add($"{arg} {Path.GetRelativePath(Directory.GetCurrentDirectory(), options.DataDirectory)}");
                    break;
                case "--out":
                    options.OutputPath = Value();
                    shown.Add($"{arg} {options.OutputPath}");
                    break;
                case "--no-real":
                    options.Real = false;
                    shown.Add(arg);
                    break;
                case "--streams":
                    options.Streams = true;
                    break;
                case "--no-external":
                    options.External = false;
                    shown.Add(arg);
                    break;
                default:
                    throw new ArgumentException($"unknown option {arg}");
            }
        }

        options.CommandLine = string.Join(" ", shown);
        return options;
    }

    private static int PositiveInt(string name, string value, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > max)
        {
            throw new ArgumentException($"{name} must be a whole number from 1 to {max}");
        }

        return n;
    }
}
