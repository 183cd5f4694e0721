using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Z4Ai.Benchmarks;

/// <summary>
/// The default configuration every benchmark class uses: allocations, a throughput column (for classes with a
/// <c>Size</c> parameter in bytes) and baselines per category. The job comes from the command line
/// (<c>--job short</c>, <c>--job dry</c>, ...) or BenchmarkDotNet's default.
/// </summary>
public class Config : ManualConfig
{
    public Config()
    {
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(CategoriesColumn.Default);
        AddColumn(new ThroughputColumn());
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        HideColumns(Column.Error, Column.StdDev);
    }

    /// <summary>A quick job for local comparisons and CI smoke runs: one launch, few short iterations.</summary>
    public sealed class ShortRun : Config
    {
        public ShortRun() => AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150))
            .WithId("ShortRun"));
    }
}

/// <summary>Bytes processed per second, from the benchmark's <c>Size</c> parameter (bytes per operation) and its mean time.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "Throughput";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Input bytes processed per second (GB = 10^9 bytes)";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => SizeOf(c) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long? size = SizeOf(benchmarkCase);
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (size is null || meanNs is null or <= 0)
        {
            return "-";
        }

        return (size.Value / meanNs.Value).ToString("0.00", CultureInfo.InvariantCulture) + " GB/s";
    }

    private static long? SizeOf(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Size")?.Value is int size ? size : null;
}
