using System.CommandLine;
using Z4Ai.S3;

namespace Z4Ai.Cli.Commands;

/// <summary>Where a registry lives: a directory, or <c>s3://bucket/prefix</c> on an S3-compatible server.</summary>
internal static partial class RegistryCommand
{
    private const string EndpointName = "--endpoint";
    private const string RegionName = "--region";
    private const string ReprobeName = "--reprobe";

    /// <summary>Options every verb inherits; used only for s3:// locations.</summary>
    private static Option[] RemoteOptions() =>
    [
        new Option<string?>(EndpointName)
        {
            Description = "the S3 server for s3:// locations, such as http://127.0.0.1:7480 (default: Z4AI_S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; credentials from the AWS environment or profile)",
            Recursive = true,
        },
        new Option<string?>(RegionName) { Description = "the signing region for s3:// locations (default: Z4AI_S3_REGION, AWS_REGION, us-east-1)", Recursive = true },
        new Option<bool>(ReprobeName)
        {
            Description = "probe the s3:// server's conditional-write support again before writing, even if the recorded probe result is fresh (it is re-probed after 7 days anyway)",
            Recursive = true,
        },
    ];

    /// <summary>Opens the store at <paramref name="location"/>; a directory must exist unless <paramref name="create"/>.</summary>
    /// <remarks>A store that will be written to (<paramref name="create"/> or <paramref name="write"/>) first loads the
    /// server's recorded capabilities, probing it when the record is missing, stale or <c>--reprobe</c> is given, so
    /// that a server without conditional PUT is detected and publishing falls back to claims.</remarks>
    private static IBlobStore OpenStore(ParseResult parse, string location, bool create = false, bool write = false)
    {
        if (!S3BlobStore.IsS3Location(location))
        {
            return new LocalBlobStore(create ? location : RequireRegistry(location));
        }

        S3StoreOptions options;
        try
        {
            options = S3StoreOptions.FromEnvironment();
            if (parse.GetValue<string?>(EndpointName) is { Length: > 0 } endpoint)
            {
                options.Endpoint = S3StoreOptions.ParseEndpoint(endpoint);
            }

            if (parse.GetValue<string?>(RegionName) is { Length: > 0 } region)
            {
                options.Region = region;
            }

            S3BlobStore store = S3BlobStore.Open(location, options);
            if (create)
            {
                store.EnsureBucketAsync().GetAwaiter().GetResult();
            }

            if (create || write)
            {
                _ = store.EnsureCapabilitiesAsync(parse.GetValue<bool>(ReprobeName)).GetAwaiter().GetResult();
            }

            return store;
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(ex.Message);
        }
    }

    private static Command Sync()
    {
        var source = new Argument<string>("source") { Description = "the registry to copy: a directory or s3://bucket/prefix" };
        var target = new Argument<string>("target") { Description = "where to copy it: a directory or s3://bucket/prefix" };
        Option<bool> quiet = CommonOptions.Quiet();
        var command = new Command(
            "sync",
            "Copy the registry at SOURCE to TARGET (directory <-> s3://), moving only the objects TARGET lacks; objects first, "
            + "then version manifests, then the registry record, so TARGET never names a blob it does not hold.\n" + ExitCodes.HelpText)
        {
            source, target, quiet,
        };
        command.SetAction(parse => Run(parse, context =>
        {
            IBlobStore from = OpenStore(parse, parse.GetValue(source)!);
            IBlobStore to = OpenStore(parse, parse.GetValue(target)!, create: true);
            try
            {
                _ = ModelRegistry.Open(from);
                (int copied, int present, long bytes) = SyncAsync(from, to).GetAwaiter().GetResult();
                if (!parse.GetValue(quiet))
                {
                    context.Output.WriteLine($"synced {from.Location} -> {to.Location}: {copied} blobs copied ({Units.Bytes(bytes)}), {present} already there");
                }

                return ExitCodes.Ok;
            }
            finally
            {
                (from as IDisposable)?.Dispose();
                (to as IDisposable)?.Dispose();
            }
        }));
        return command;
    }

    /// <summary>Copies every blob of <paramref name="from"/> that <paramref name="to"/> lacks, manifests after objects
    /// and the registry record last.</summary>
    internal static async Task<(int Copied, int Present, long Bytes)> SyncAsync(IBlobStore from, IBlobStore to, CancellationToken cancellationToken = default)
    {
        List<BlobInfo> blobs = [];
        await foreach (BlobInfo b in from.ListAsync(string.Empty, cancellationToken).ConfigureAwait(false))
        {
            blobs.Add(b);
        }

        static int Stage(string key) =>
            key.StartsWith("manifests/", StringComparison.Ordinal) ? 1 : key.Contains('/', StringComparison.Ordinal) ? 0 : 2;

        int copied = 0, present = 0;
        long bytes = 0;
        foreach (BlobInfo blob in blobs.OrderBy(b => Stage(b.Key)).ThenBy(b => b.Key, StringComparer.Ordinal))
        {
            if (await to.GetInfoAsync(blob.Key, cancellationToken).ConfigureAwait(false) is not null)
            {
                present++;
                continue;
            }

            bool created = await to.PutIfAbsentAsync(
                blob.Key,
                async (output, ct) =>
                {
                    Stream input = await from.OpenReadAsync(blob.Key, ct).ConfigureAwait(false);
                    await using (input.ConfigureAwait(false))
                    {
                        await input.CopyToAsync(output, ct).ConfigureAwait(false);
                    }
                },
                cancellationToken).ConfigureAwait(false);
            if (created)
            {
                copied++;
                bytes += blob.Length;
            }
            else
            {
                present++;
            }
        }

        return (copied, present, bytes);
    }
}
