namespace Z4Ai;

/// <summary>What a store says about one blob.</summary>
/// <param name="Key">The blob's key.</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="LastModifiedUtc">When it was created or last touched (<see cref="IBlobStore.TouchAsync"/>), in UTC.</param>
public sealed record BlobInfo(string Key, long Length, DateTimeOffset LastModifiedUtc);
