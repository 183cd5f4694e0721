namespace Z4Ai;

/// <summary>The result of <see cref="DeltaCodec.CompressFile"/>.</summary>
public sealed class ModelDeltaReport
{
    internal ModelDeltaReport(
        IReadOnlyList<ModelDeltaTensorInfo> tensors,
        string baseModelSha256,
        string targetModelSha256,
        long targetBytes,
        long outputBytes,
        TimeSpan elapsed)
    {
        Tensors = tensors;
        BaseModelSha256 = baseModelSha256;
        TargetModelSha256 = targetModelSha256;
        TargetBytes = targetBytes;
        OutputBytes = outputBytes;
        Elapsed = elapsed;
    }

    /// <summary>How each target tensor was stored, in file order.</summary>
    public IReadOnlyList<ModelDeltaTensorInfo> Tensors { get; }

    /// <summary>The identity of the base model (see <see cref="ModelDeltaInfo.BaseModelSha256"/>).</summary>
    public string BaseModelSha256 { get; }

    /// <summary>The identity of the target model.</summary>
    public string TargetModelSha256 { get; }

    /// <summary>The size of the target file.</summary>
    public long TargetBytes { get; }

    /// <summary>The size of the delta written.</summary>
    public long OutputBytes { get; }

    /// <summary>Wall time.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Target bytes per delta byte.</summary>
    public double Ratio => OutputBytes == 0 ? 0 : (double)TargetBytes / OutputBytes;

    /// <summary>Counts the tensors stored with <paramref name="mode"/>.</summary>
    public int CountTensors(ModelDeltaTensorMode mode) => Tensors.Count(t => t.Mode == mode);
}
