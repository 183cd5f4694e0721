using BenchmarkDotNet.Running;
using Z4Ai.Benchmarks.Format;

// Plain runners print tables quickly; anything else goes to BenchmarkDotNet (e.g. --filter '*Plane*').
var runners = new Dictionary<string, Func<string[], int>>(StringComparer.Ordinal)
{
    ["format"] = FormatThroughput.Run,
    ["make-large"] = LargeModelFile.Run,
    ["delta-corpus"] = Z4Ai.Benchmarks.Delta.DeltaCorpus.Run,
    ["corpus"] = Z4Ai.Benchmarks.Corpus.CorpusRunner.Run,
    ["lossy-pareto"] = Z4Ai.Benchmarks.Lossy.LossyPareto.Run,
    ["registry"] = Z4Ai.Benchmarks.Registry.RegistryBench.Run,
    ["archive-corpus"] = Z4Ai.Benchmarks.Archival.ArchiveCorpus.Run,
    ["codec-probe"] = Z4Ai.Benchmarks.Codecs.Probe.Run,
    ["row-class-probe"] = Z4Ai.Benchmarks.Codecs.RowClassProbe.Run,
    ["codec-analyze"] = Z4Ai.Benchmarks.Codecs.Analyze.Run,
    ["codec-scenarios"] = Z4Ai.Benchmarks.Codecs.CodecScenarios.Run,
    ["codec-speed"] = Z4Ai.Benchmarks.Codecs.CodecSpeed.Run,
    ["step-probe"] = Z4Ai.Benchmarks.Codecs.StepProbe.Run,
    ["repeated-probe"] = Z4Ai.Benchmarks.Codecs.RepeatedProbe.Run,
    ["s3-family"] = Z4Ai.Benchmarks.S3.S3FamilyBench.Run,
};

if (args.Length > 0 && runners.TryGetValue(args[0], out Func<string[], int>? run))
{
    return run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(FormatBenchmarks).Assembly).Run(args);
return 0;
