namespace Z4Ai.S3.Client;

internal sealed partial class S3ObjectClient
{
    /// <summary>How many times a contended claim is retried before the publish reports a conflict.</summary>
    internal int MaxClaimAttempts { get; set; } = 12;

    /// <summary>
    /// Appends a write-once entry <c>logPrefix + uniqueName</c> to a log: the fallback record for servers without
    /// conditional PUT, where nothing is ever overwritten and readers resolve the log by listing it
    /// (<see cref="ListLogAsync"/>). Names must be unique per writer (<see cref="S3ClaimNames.NewEntryName"/>); an
    /// existing name is refused, atomically where the server honours <c>If-None-Match</c>, else by a HEAD first.
    /// </summary>
    /// <returns>The entry's key, relative to the client's prefix.</returns>
    /// <exception cref="Z4AiS3Exception"><see cref="S3FailureReason.Conflict"/> when the name is taken.</exception>
    public async Task<string> AppendLogEntryAsync(string logPrefix, string uniqueName, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        string key = LogEntryKey(logPrefix, uniqueName);
        string full = FullKey(key);
        S3UploadContent upload = S3UploadContent.FromMemory(content);
        bool conditional = Capabilities.ConditionalCreate;
        if (!conditional && await HeadAsync(key, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new Z4AiS3Exception(S3FailureReason.Conflict, "append log entry: an entry with this name exists; names must be unique", Bucket, full, 412);
        }

        ConditionalWriteResult put = await PutAsync(full, upload, conditional ? "*" : null, null, cancellationToken).ConfigureAwait(false);
        if (!put.Succeeded)
        {
            throw new Z4AiS3Exception(S3FailureReason.Conflict, "append log entry: an entry with this name exists; names must be unique", Bucket, full, 412);
        }

        return key;
    }

    /// <summary>The entries of a log, sorted by name (creation order for <see cref="S3ClaimNames.NewEntryName"/> names).</summary>
    public async Task<IReadOnlyList<S3ObjectInfo>> ListLogAsync(string logPrefix, CancellationToken cancellationToken = default)
    {
        string prefix = NormalizeLogPrefix(logPrefix);
        var entries = new List<S3ObjectInfo>();
        await foreach (S3ObjectInfo info in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            // Only direct children are entries; deeper keys belong to something else.
            if (info.Key.IndexOf('/', prefix.Length) < 0)
            {
                entries.Add(info);
            }
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return entries;
    }

    /// <summary>
    /// Runs <paramref name="critical"/> while holding an exclusive claim on <paramref name="key"/>, built from
    /// write-once entries alone, for servers that ignore conditional PUT. Protocol (docs/s3.md): write a uniquely named
    /// claim under <c>claims/KEY/</c>, then list that folder. A writer proceeds only if its claim is the only one:
    /// with read-after-write consistent listing, two writers cannot both see only themselves (each one's claim
    /// completed before its own list began, so at least one list sees both). A writer that sees others deletes its
    /// claim and retries after a jittered backoff. Claims older than <see cref="S3StoreOptions.ClaimStaleAfter"/> by
    /// the server's clock (compared with the writer's own claim, so client clocks do not matter) are removed as left
    /// by crashed writers. The claim is deleted when <paramref name="critical"/> ends.
    /// </summary>
    /// <exception cref="Z4AiS3Exception"><see cref="S3FailureReason.Conflict"/> when the claim could not be won in
    /// <see cref="MaxClaimAttempts"/> tries.</exception>
    public async Task<T> WithClaimAsync<T>(string key, Func<CancellationToken, Task<T>> critical, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(critical);
        ThrowIfInvalidKey(key, nameof(key));
        string folder = S3ClaimNames.ClaimFolder(key);
        string fullKey = FullKey(key);
        int others = 0;
        for (int attempt = 1; attempt <= MaxClaimAttempts; attempt++)
        {
            string mine = folder + S3ClaimNames.NewEntryName(DateTimeOffset.UtcNow);
            await PutAsync(FullKey(mine), S3UploadContent.FromMemory(ReadOnlyMemory<byte>.Empty), null, null, cancellationToken).ConfigureAwait(false);
            try
            {
                IReadOnlyList<S3ObjectInfo> claims = await ListLogAsync(folder, cancellationToken).ConfigureAwait(false);
                S3ObjectInfo? own = null;
                foreach (S3ObjectInfo c in claims)
                {
                    if (c.Key == mine)
                    {
                        own = c;
                    }
                }

                if (own is null)
                {
                    throw new Z4AiS3Exception(
                        S3FailureReason.InvalidResponse,
                        "claim: the listing does not show a claim that was just written; the server's listings are not read-after-write consistent, so publishing without conditional PUT is unsafe here",
                        Bucket,
                        FullKey(mine));
                }

                others = 0;
                foreach (S3ObjectInfo c in claims)
                {
                    if (c.Key == mine)
                    {
                        continue;
                    }

                    if (own.LastModifiedUtc - c.LastModifiedUtc > Options.ClaimStaleAfter)
                    {
                        S3Log.StaleClaimRemoved(_logger, c.Key, Options.ClaimStaleAfter);
                        await DeleteAsync(c.Key, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    others++;
                }

                if (others == 0)
                {
                    return await critical(cancellationToken).ConfigureAwait(false);
                }

                S3Log.ClaimContended(_logger, fullKey, others, attempt);
            }
            finally
            {
                // Released with no cancellation: a claim left behind blocks others until it is stale.
                await DeleteAsync(mine, CancellationToken.None).ConfigureAwait(false);
            }

            await Task.Delay(_retry.Delay(Math.Min(attempt, 6), Random.Shared.NextDouble()) + TimeSpan.FromMilliseconds(Random.Shared.Next(5, 50)), cancellationToken).ConfigureAwait(false);
        }

        throw new Z4AiS3Exception(
            S3FailureReason.Conflict,
            $"could not win the publish claim in {MaxClaimAttempts} attempts ({others} other writer(s) kept claiming); retry later",
            Bucket,
            fullKey);
    }

    private static string NormalizeLogPrefix(string logPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(logPrefix);
        string p = logPrefix.EndsWith('/') ? logPrefix : logPrefix + "/";
        ThrowIfInvalidKey(p, nameof(logPrefix));
        return p;
    }

    private static string LogEntryKey(string logPrefix, string uniqueName)
    {
        if (!S3ClaimNames.IsValidEntryName(uniqueName))
        {
            throw new ArgumentException($"'{uniqueName}' is not a log entry name: one segment of ASCII letters, digits and . _ - + = @", nameof(uniqueName));
        }

        return NormalizeLogPrefix(logPrefix) + uniqueName;
    }
}
