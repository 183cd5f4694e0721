namespace Z4Ai;

/// <summary>The certificate state of a registry version, as <see cref="ModelRegistry.List"/> reports it.</summary>
public enum RegistryCertificateStatus
{
    /// <summary>A lossless version: it restores every byte and needs no certificate.</summary>
    None,

    /// <summary>A lossy version whose current certificate passed its criteria.</summary>
    Passed,

    /// <summary>A lossy version whose current certificate did not pass (it was stored with force).</summary>
    Failed,

    /// <summary>A lossy version stored with force and no certificate.</summary>
    Forced,
}
