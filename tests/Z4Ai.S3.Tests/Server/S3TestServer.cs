using System.Diagnostics;
using System.Net.Sockets;
using Amazon.Runtime;

namespace Z4Ai.S3.Tests.Server;

/// <summary>
/// Finds the S3 server the integration tests run against, in this order: the environment (Z4AI_S3_ENDPOINT,
/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, as .ci/run exports them after scripts/s3-server/start.sh); the env.sh
/// file of a running server (Z4AI_S3_STATE, default $TMPDIR/z4ai-s3); else it runs start.sh itself (unless
/// Z4AI_S3_NO_AUTOSTART=1) and stops the server when the tests end. If none of that yields a server, <see cref="Start"/> throws with the reason, so every server
/// test fails: they never pass or skip silently.
/// </summary>
internal static class S3TestServer
{
    private static string? s_startedState;

    public static Uri Endpoint { get; private set; } = null!;

    public static string Region { get; private set; } = "us-east-1";

    public static string AccessKey { get; private set; } = null!;

    public static string SecretKey { get; private set; } = null!;

    public static string Source { get; private set; } = string.Empty;

    public static BasicAWSCredentials Credentials => new(AccessKey, SecretKey);

    public static S3StoreOptions Options(int maxRetries = 2) => new()
    {
        Endpoint = Endpoint,
        Region = Region,
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        RetryMaxDelay = TimeSpan.FromMilliseconds(500),
        RequestTimeout = TimeSpan.FromSeconds(60),
    };

    public static void Start()
    {
        string? endpoint = Environment.GetEnvironmentVariable("Z4AI_S3_ENDPOINT");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            Use(ReadEnvironment(), "environment");
            return;
        }

        string state = StateDirectory();
        string envFile = Path.Combine(state, "env.sh");
        if (File.Exists(envFile))
        {
            Dictionary<string, string> vars = ParseEnvFile(envFile);
            if (vars.TryGetValue("Z4AI_S3_ENDPOINT", out string? e) && Answers(new Uri(e)))
            {
                Use(vars, envFile);
                return;
            }
        }

        if (Environment.GetEnvironmentVariable("Z4AI_S3_NO_AUTOSTART") == "1")
        {
            // CI starts the server itself; if that failed, fail here at once rather than trying a second time.
            throw new InvalidOperationException(
                $"The S3 integration tests need a server: Z4AI_S3_ENDPOINT is not set, {envFile} has no running server, and Z4AI_S3_NO_AUTOSTART=1 forbids starting one");
        }

        string script = FindScript()
            ?? throw new InvalidOperationException(
                "The S3 integration tests need a server: set Z4AI_S3_ENDPOINT (and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), "
                + "or run scripts/s3-server/start.sh; the script was not found above " + AppContext.BaseDirectory);
        (int code, string output) = Run("bash", [script], TimeSpan.FromMinutes(15));
        if (code != 0 || !File.Exists(envFile))
        {
            throw new InvalidOperationException($"The S3 integration tests need a server, and {script} could not start one (exit {code}):\n{Tail(output, 40)}");
        }

        s_startedState = state;
        Use(ParseEnvFile(envFile), script);
    }

    public static void StopIfStartedHere()
    {
        if (s_startedState is null || FindScript() is not { } start)
        {
            return;
        }

        string stop = Path.Combine(Path.GetDirectoryName(start)!, "stop.sh");
        Run("bash", [stop], TimeSpan.FromMinutes(1));
        s_startedState = null;
    }

    /// <summary>True when something accepts TCP connections at the endpoint.</summary>
    public static bool Answers(Uri endpoint)
    {
        try
        {
            using var tcp = new TcpClient();
            return tcp.ConnectAsync(endpoint.Host, endpoint.Port).Wait(TimeSpan.FromSeconds(2)) && tcp.Connected;
        }
        catch (AggregateException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    internal static Dictionary<string, string> ParseEnvFile(string path)
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line[7..].Trim();
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                vars[line[..eq]] = line[(eq + 1)..].Trim('"', '\'');
            }
        }

        return vars;
    }

    private static Dictionary<string, string> ReadEnvironment()
    {
        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in new[] { "Z4AI_S3_ENDPOINT", "Z4AI_S3_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY" })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                vars[name] = value;
            }
        }

        return vars;
    }

    private static void Use(Dictionary<string, string> vars, string source)
    {
        if (!vars.TryGetValue("Z4AI_S3_ENDPOINT", out string? endpoint) || !vars.TryGetValue("AWS_ACCESS_KEY_ID", out string? key) || !vars.TryGetValue("AWS_SECRET_ACCESS_KEY", out string? secret))
        {
            throw new InvalidOperationException($"The S3 test server settings from {source} lack Z4AI_S3_ENDPOINT, AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY");
        }

        Endpoint = S3StoreOptions.ParseEndpoint(endpoint);
        AccessKey = key;
        SecretKey = secret;
        Region = vars.GetValueOrDefault("Z4AI_S3_REGION") ?? "us-east-1";
        Source = source;
        if (!Answers(Endpoint))
        {
            throw new InvalidOperationException($"The S3 test server at {Endpoint} (from {source}) does not accept connections; start it with scripts/s3-server/start.sh");
        }
    }

    private static string StateDirectory() =>
        Environment.GetEnvironmentVariable("Z4AI_S3_STATE") is { Length: > 0 } s ? s : Path.Combine(Path.GetTempPath(), "z4ai-s3");

    private static string? FindScript()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "scripts", "s3-server", "start.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static (int Code, string Output) Run(string file, string[] args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalSeconds:0} s\n" + stderr.Result);
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));
}
