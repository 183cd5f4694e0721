namespace Z4Ai;

/// <summary>
/// Which context set the archival model uses. Each preset is tuned for a kind of content; any preset decodes any
/// frame it wrote, and every frame records its preset, so the choice only affects size and speed.
/// </summary>
public enum ArchivePreset
{
    /// <summary>Pick from the content: JSON or logs, source code, or prose; binary when most bytes are not text.</summary>
    Auto = 0,

    /// <summary>Natural-language text: model cards, READMEs, documentation.</summary>
    Prose = 1,

    /// <summary>Source code (Python, C#, C-like languages, shell).</summary>
    Code = 2,

    /// <summary>JSON, JSON lines, YAML and log files: keys, columns and repeated records.</summary>
    Json = 3,

    /// <summary>Non-text byte streams, such as the exponent bytes of float tensors.</summary>
    Binary = 4,
}
