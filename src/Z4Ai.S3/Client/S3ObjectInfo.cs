namespace Z4Ai.S3.Client;

/// <summary>What HEAD or LIST says about one object.</summary>
/// <param name="Key">The key relative to the client's prefix.</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="LastModifiedUtc">The server's last-modified time (created, or last touched by a self-copy).</param>
/// <param name="ETag">The entity tag without quotes, as conditional requests on Ceph RGW want it.</param>
/// <param name="Sha256">The SHA-256 Z4Ai recorded in the object's metadata when it uploaded it (lowercase hex), or
/// null (LIST does not return metadata; objects written by other tools have none).</param>
internal sealed record S3ObjectInfo(string Key, long Length, DateTimeOffset LastModifiedUtc, string ETag, string? Sha256);
