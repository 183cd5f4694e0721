namespace Z4Ai.Archival;

/// <summary>What a frame records about the model that coded it: id, version and settings bytes.</summary>
/// <param name="Id">The model id (1 = <see cref="ContextMixModel"/>, 2 = the small order-2 model).</param>
/// <param name="Version">The model version; predictions never change within a version.</param>
/// <param name="Settings">The model's own settings, at most <see cref="MaxSettingsLength"/> bytes.</param>
internal sealed record ModelDescriptor(byte Id, byte Version, byte[] Settings)
{
    /// <summary>The largest settings block a frame may carry.</summary>
    public const int MaxSettingsLength = 32;
}
