namespace Z4Ai;

/// <summary>The result of <see cref="ModelRegistry.Gc"/>.</summary>
/// <param name="ObjectsScanned">Objects in the store before collection.</param>
/// <param name="ObjectsReachable">Objects some version needs (directly or as a delta reference).</param>
/// <param name="ObjectsSpared">Unreachable objects kept because they are younger than the grace period.</param>
/// <param name="ObjectsDeleted">Objects removed.</param>
/// <param name="BytesFreed">Their total size.</param>
/// <param name="TemporaryFilesDeleted">Stray temporary blobs of interrupted writers removed.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record RegistryGcReport(
    int ObjectsScanned,
    int ObjectsReachable,
    int ObjectsSpared,
    int ObjectsDeleted,
    long BytesFreed,
    int TemporaryFilesDeleted,
    TimeSpan Elapsed);
