namespace Z4Ai;

/// <summary>The result of <see cref="ModelRegistry.Verify"/>: never an exception for corruption, always this report.</summary>
/// <param name="VersionsChecked">Versions whose manifests were read.</param>
/// <param name="ObjectsChecked">Objects decoded and checked against their SHA-256.</param>
/// <param name="BytesChecked">Raw bytes those objects decode to.</param>
/// <param name="Issues">Every problem found, each naming the versions it breaks.</param>
/// <param name="BrokenVersions">Every version that cannot be restored exactly, sorted.</param>
public sealed record RegistryVerifyReport(
    int VersionsChecked,
    int ObjectsChecked,
    long BytesChecked,
    IReadOnlyList<RegistryIssue> Issues,
    IReadOnlyList<string> BrokenVersions)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Passed => Issues.Count == 0;
}
