using System.Globalization;
using System.Net;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;

namespace Z4Ai.S3.Client;

internal sealed partial class S3ObjectClient
{
    /// <summary>Where probes write, relative to the client's prefix; each probe uses a fresh key and deletes it.</summary>
    internal const string ProbePrefix = "z4ai-probe/";

    /// <summary>
    /// Finds out what the server honours, on a fresh probe key: (1) create with <c>If-None-Match: *</c>; (2) the same
    /// create again must be refused (412/409) and leave the first content; (3) <c>If-Match</c> with a wrong ETag must
    /// be refused, (4) with the current ETag (unquoted) accepted; (5) a ranged GET must return exactly its bytes. A
    /// server that ignores a header answers 200 where the probe expects a refusal, so nothing is assumed from silence.
    /// The result becomes <see cref="Capabilities"/>; the store records it with the remote (docs/s3.md).
    /// </summary>
    public async Task<S3Capabilities> ProbeAsync(CancellationToken cancellationToken = default)
    {
        string key = ProbePrefix + S3ClaimNames.NewEntryName(DateTimeOffset.UtcNow);
        string full = FullKey(key);
        var notes = new StringBuilder();
        bool create = false, replace = false, ranged = false;
        byte[] first = Encoding.ASCII.GetBytes("z4ai probe: first");
        byte[] second = Encoding.ASCII.GetBytes("z4ai probe: second!");
        try
        {
            ProbeOutcome a = await ProbePutAsync(full, first, "*", null, notes, "create", cancellationToken).ConfigureAwait(false);
            if (a == ProbeOutcome.Refused)
            {
                throw new Z4AiS3Exception(S3FailureReason.InvalidResponse, "probe: a conditional create of a fresh key was refused", Bucket, full);
            }

            if (a == ProbeOutcome.Unsupported)
            {
                // Swift's s3api answers 501 "Conditional object PUTs are not supported": no conditional create. The
                // remaining steps need the object, so it is written plainly.
                _ = await PutAsync(full, S3UploadContent.FromMemory(first), null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                ProbeOutcome b = await ProbePutAsync(full, second, "*", null, notes, "create again", cancellationToken).ConfigureAwait(false);
                byte[] now = await GetAsync(key, 1024, null, cancellationToken).ConfigureAwait(false);
                create = b == ProbeOutcome.Refused && now.AsSpan().SequenceEqual(first);
            }

            string etag = (await HeadAsync(key, cancellationToken).ConfigureAwait(false))?.ETag ?? string.Empty;
            ProbeOutcome stale = await ProbePutAsync(full, second, null, "0123456789abcdef0123456789abcdef", notes, "stale if-match", cancellationToken).ConfigureAwait(false);
            if (stale == ProbeOutcome.Refused)
            {
                ProbeOutcome current = await ProbePutAsync(full, second, null, etag, notes, "current if-match", cancellationToken).ConfigureAwait(false);
                byte[] after = await GetAsync(key, 1024, null, cancellationToken).ConfigureAwait(false);
                replace = current == ProbeOutcome.Succeeded && after.AsSpan().SequenceEqual(second);
            }

            byte[] stored = await GetAsync(key, 1024, null, cancellationToken).ConfigureAwait(false);
            byte[] window = new byte[5];
            int got = await ReadRangeAsync(key, 3, window, cancellationToken).ConfigureAwait(false);
            byte[] expectedWindow = stored.AsSpan(3, 5).ToArray();
            ranged = got == 5 && window.AsSpan().SequenceEqual(expectedWindow) && await ServesPartialContentAsync(full, cancellationToken).ConfigureAwait(false);
            notes.Append(" ranged get ").Append(ranged ? "206" : "ignored");
        }
        finally
        {
            try
            {
                await DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Z4AiS3Exception)
            {
                // The probe key is harmless; a failed delete must not hide the probe's own result or error.
            }
        }

        var result = new S3Capabilities(create, replace, ranged, DateTimeOffset.UtcNow, notes.ToString().Trim());
        Capabilities = result;
        S3Log.Probed(_logger, Location, create, replace, ranged, result.Notes);
        return result;
    }

    private enum ProbeOutcome
    {
        Succeeded,
        Refused,
        Unsupported,
    }

    private async Task<ProbeOutcome> ProbePutAsync(string full, byte[] data, string? ifNoneMatch, string? ifMatch, StringBuilder notes, string step, CancellationToken ct)
    {
        try
        {
            ConditionalWriteResult r = await PutAsync(full, S3UploadContent.FromMemory(data), ifNoneMatch, ifMatch, ct).ConfigureAwait(false);
            notes.Append(' ').Append(step).Append(r.Succeeded ? " 200;" : " refused;");
            return r.Succeeded ? ProbeOutcome.Succeeded : ProbeOutcome.Refused;
        }
        catch (Z4AiS3Exception ex) when (ex.Reason is S3FailureReason.Rejected)
        {
            // 400/501 NotImplemented: the server does not support the header at all.
            notes.Append(' ').Append(step).Append(" unsupported (").Append(ex.StatusCode?.ToString(CultureInfo.InvariantCulture) ?? "?").Append(' ').Append(ex.ErrorCode ?? "no code").Append(");");
            return ProbeOutcome.Unsupported;
        }
    }

    private Task<bool> ServesPartialContentAsync(string full, CancellationToken cancellationToken) =>
        RunAsync(
            "probe ranged get",
            full,
            async ct =>
            {
                using GetObjectResponse r = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = full, ByteRange = new ByteRange(0, 1) }, ct).ConfigureAwait(false);
                return r.HttpStatusCode == HttpStatusCode.PartialContent && r.ContentLength == 2;
            },
            cancellationToken);
}
