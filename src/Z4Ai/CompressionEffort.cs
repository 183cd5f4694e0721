namespace Z4Ai;

/// <summary>How hard the codec works. Every level is lossless and never expands beyond a small fixed header.</summary>
public enum CompressionEffort
{
    /// <summary>Decode speed first: only the cheapest transforms.</summary>
    Fast = 0,
    /// <summary>A balance of ratio and speed.</summary>
    Default = 1,
    /// <summary>The smallest output; encoding may be slow.</summary>
    Max = 2,
    /// <summary>
    /// <see cref="Max"/>, and every symbol stream (the exponent and sign+mantissa streams of floats) is also coded
    /// with the archival context-mixing model, kept where it is smallest: for cold storage, where encoding and
    /// decoding time (about 1 MB/s per core for the streams it keeps) matter less than bytes.
    /// </summary>
    Archive = 3,
}
