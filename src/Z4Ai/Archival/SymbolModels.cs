using Z4Ai.Internal;

namespace Z4Ai.Archival;

/// <summary>
/// The models a frame may name, by id and version: the only place that turns a recorded descriptor back into a
/// model. A new predictor is added here under a new id (or a new version of an existing id), and older frames
/// keep decoding with the versions they name.
/// </summary>
internal static class SymbolModels
{
    /// <summary>The models this library can build, for error messages.</summary>
    public const string KnownModels = "context-mix v1 to v3 (id 1), order-2 v1 (id 2)";

    /// <summary>A short name for a descriptor: e.g. <c>context-mix v1 (prose)</c>.</summary>
    public static string Describe(ModelDescriptor descriptor) => descriptor.Id switch
    {
        ContextMixModel.ModelId when descriptor.Settings.Length == ContextMixSettings.Length =>
            $"context-mix v{descriptor.Version} ({((ArchivePreset)descriptor.Settings[0]).ToString().ToLowerInvariant()})",
        ContextMixModel.ModelId => $"context-mix v{descriptor.Version}",
        Order2Model.ModelId => $"order-2 v{descriptor.Version}",
        _ => $"model {descriptor.Id} v{descriptor.Version}",
    };

    /// <summary>
    /// Checks that this library has the model a frame names, with valid settings; throws a
    /// <see cref="Z4AiFormatException"/> of kind <see cref="Z4AiErrorKind.UnsupportedVersion"/> otherwise.
    /// </summary>
    public static void Validate(ModelDescriptor descriptor)
    {
        switch (descriptor.Id)
        {
            case ContextMixModel.ModelId when descriptor.Version is >= ContextMixModel.ModelVersion and <= ContextMixModel.LatestVersion:
                ContextMixSettings.Read(descriptor.Settings);
                return;
            case Order2Model.ModelId when descriptor.Version == Order2Model.ModelVersion:
                if (descriptor.Settings.Length != 0)
                {
                    ThrowHelper.CorruptFrame($"order-2 model settings are {descriptor.Settings.Length} bytes, expected none");
                }

                return;
            default:
                ThrowHelper.Format(
                    Z4AiErrorKind.UnsupportedVersion,
                    $"the frame needs model id {descriptor.Id} version {descriptor.Version}, which this library does not have (it has {KnownModels})");
                return;
        }
    }

    /// <summary>Builds a fresh model for a validated descriptor.</summary>
    /// <param name="descriptor">The model to build.</param>
    /// <param name="historyCapacity">The history the model should expect (primer plus data).</param>
    public static ISymbolModel Create(ModelDescriptor descriptor, int historyCapacity)
    {
        Validate(descriptor);
        return descriptor.Id switch
        {
            ContextMixModel.ModelId => new ContextMixModel(ContextMixSettings.Read(descriptor.Settings), historyCapacity, descriptor.Version),
            _ => new Order2Model(),
        };
    }

    /// <summary>The descriptor of the context-mixing model with <paramref name="settings"/>.</summary>
    /// <param name="settings">The preset and table sizes.</param>
    /// <param name="version">The model version (1 to 3).</param>
    public static ModelDescriptor ContextMix(ContextMixSettings settings, byte version)
    {
        byte[] bytes = new byte[ContextMixSettings.Length];
        settings.Write(bytes);
        return new ModelDescriptor(ContextMixModel.ModelId, version, bytes);
    }

    /// <summary>The descriptor of the order-2 model.</summary>
    public static ModelDescriptor Order2 { get; } = new(Order2Model.ModelId, Order2Model.ModelVersion, []);
}
