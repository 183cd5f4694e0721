using Z4Ai.Integrity;

namespace Z4Ai.Archival;

/// <summary>
/// A versioned sample text shipped with the library. Priming trains a model on it before coding, so small files
/// start with a model that already knows common words, keys and code idioms. Encoder and decoder must use the
/// same bytes: a frame records the primer's id, version and SHA-256, and decoding refuses any other.
/// </summary>
internal sealed class Primer
{
    // Only text this project owns (Primers/README.md gives the recipe). prose-v1, prose-v2 and code-v1 were
    // withdrawn before any release because they contained third-party text; frames naming them are refused as
    // unknown primers, like any other version this library does not ship.
    private static readonly Primer[] Known =
    [
        new(1, 3, "prose", ArchivePreset.Prose),
        new(2, 2, "code", ArchivePreset.Code),
        new(3, 1, "json", ArchivePreset.Json),
    ];

    private readonly Lazy<byte[]> _bytes;
    private readonly Lazy<Sha256Digest> _digest;

    private Primer(byte id, byte version, string name, ArchivePreset preset)
    {
        Id = id;
        Version = version;
        Name = name;
        Preset = preset;
        _bytes = new Lazy<byte[]>(Load, LazyThreadSafetyMode.ExecutionAndPublication);
        _digest = new Lazy<Sha256Digest>(() => Sha256Digest.Compute(_bytes.Value), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The primer id recorded in frames (never 0, which means "no primer").</summary>
    public byte Id { get; }

    /// <summary>The primer version; its text never changes within a version.</summary>
    public byte Version { get; }

    /// <summary>A short name: prose, code or json.</summary>
    public string Name { get; }

    /// <summary>The preset this primer is meant for.</summary>
    public ArchivePreset Preset { get; }

    /// <summary>The full name with version, as in the resource file name: e.g. <c>prose-v3</c>.</summary>
    public string FullName => $"{Name}-v{Version}";

    /// <summary>The primer text.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes.Value;

    /// <summary>The SHA-256 of <see cref="Bytes"/>.</summary>
    public Sha256Digest Digest => _digest.Value;

    /// <summary>Every primer this library ships.</summary>
    public static IReadOnlyList<Primer> All => Known;

    /// <summary>
    /// The primer encoders use for <paramref name="preset"/> (every model version), or null when the preset has
    /// none: the newest shipped version of the preset's primer.
    /// </summary>
    public static Primer? ForPreset(ArchivePreset preset)
    {
        Primer? best = null;
        foreach (Primer primer in Known)
        {
            if (primer.Preset == preset && (best is null || primer.Version > best.Version))
            {
                best = primer;
            }
        }

        return best;
    }

    /// <summary>The full names of the shipped primers, for error messages: e.g. <c>prose-v3, code-v2, json-v1</c>.</summary>
    public static string ShippedNames => string.Join(", ", Known.Select(p => p.FullName));

    /// <summary>The full name a primer id and version would have (shipped or not): e.g. <c>prose-v1</c>, <c>primer 9-v2</c>.</summary>
    public static string NameOf(byte id, byte version) => id switch
    {
        1 => $"prose-v{version}",
        2 => $"code-v{version}",
        3 => $"json-v{version}",
        _ => $"primer {id}-v{version}",
    };

    /// <summary>The shipped primer with this id and version, or null.</summary>
    public static Primer? Find(byte id, byte version)
    {
        foreach (Primer primer in Known)
        {
            if (primer.Id == id && primer.Version == version)
            {
                return primer;
            }
        }

        return null;
    }

    private byte[] Load()
    {
        string resource = $"Z4Ai.Archival.Primers.{FullName}.txt";
        using Stream stream = typeof(Primer).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the primer resource '{resource}' is missing from the assembly");
        byte[] bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
