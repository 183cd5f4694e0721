using Microsoft.Extensions.Logging;

namespace Z4Ai.Registry;

/// <summary>The registry's log messages (source-generated: no allocation when the level is off, AOT-safe).</summary>
internal static partial class RegistryLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Added version {Version} (parent {Parent}): {Tensors} tensors, {LogicalBytes} logical bytes, {StoredBytes} bytes stored")]
    public static partial void VersionAdded(ILogger logger, string version, string parent, int tensors, long logicalBytes, long storedBytes);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "Version {Version}, tensor {Tensor}: {Storage}, {StoredBytes} of {RawBytes} bytes, depth {Depth}")]
    public static partial void TensorStored(ILogger logger, string version, string tensor, TensorStorage storage, long storedBytes, long rawBytes, int depth);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "Version {Version}, tensor {Tensor}: not stored as a delta against {Role}: {Reason}")]
    public static partial void CandidateSkipped(ILogger logger, string version, string tensor, string role, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Object {Object} has a damaged tail and is replaced: {Reason}")]
    public static partial void DamagedObjectReplaced(ILogger logger, string @object, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Manifest {Version} cannot be read: {Reason}")]
    public static partial void DamagedManifest(ILogger logger, string version, string reason);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Removed version {Version}")]
    public static partial void VersionRemoved(ILogger logger, string version);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Garbage collection: {Deleted} of {Scanned} objects deleted ({Bytes} bytes), {Spared} spared by the grace period")]
    public static partial void GcDone(ILogger logger, int deleted, int scanned, long bytes, int spared);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Error, Message = "Verify: {Subject}: {Problem}")]
    public static partial void VerifyIssue(ILogger logger, string subject, string problem);
}
