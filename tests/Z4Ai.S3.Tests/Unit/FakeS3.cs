using System.Net;
using System.Text;
using Amazon.Runtime;
using Z4Ai.S3.Client;

namespace Z4Ai.S3.Tests.Unit;

/// <summary>One request as the fake server saw it.</summary>
internal sealed record SeenRequest(HttpMethod Method, Uri Uri, Dictionary<string, string> Headers, byte[] Body);

/// <summary>An HttpMessageHandler that plays a scripted S3 server and records every request.</summary>
internal sealed class FakeS3Handler(Func<SeenRequest, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private readonly List<SeenRequest> _seen = [];

    public IReadOnlyList<SeenRequest> Seen
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    public static HttpResponseMessage Ok(string? etag = null, byte[]? body = null, Action<HttpResponseMessage>? more = null)
    {
        var r = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body ?? []) };
        if (etag is not null)
        {
            r.Headers.TryAddWithoutValidation("ETag", "\"" + etag + "\"");
        }

        more?.Invoke(r);
        return r;
    }

    /// <summary>The ETag S3 gives a single-part object (its MD5), which the SDK checks whole GETs against.</summary>
#pragma warning disable CA5351 // S3 itself defines the ETag as MD5; nothing here is security.
    public static string Md5(byte[] body) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(body));
#pragma warning restore CA5351

    public static HttpResponseMessage Error(HttpStatusCode status, string code)
    {
        string xml = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>scripted</Message><RequestId>r1</RequestId></Error>";
        return new HttpResponseMessage(status) { Content = new StringContent(xml, Encoding.UTF8, "application/xml") };
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in request.Headers)
        {
            headers[h.Key] = string.Join(",", h.Value);
        }

        if (request.Content is not null)
        {
            foreach (var h in request.Content.Headers)
            {
                headers[h.Key] = string.Join(",", h.Value);
            }
        }

        var seen = new SeenRequest(request.Method, request.RequestUri!, headers, body);
        int index;
        lock (_seen)
        {
            _seen.Add(seen);
            index = _seen.Count - 1;
        }

        HttpResponseMessage response = respond(seen, index);
        response.RequestMessage = request;
        return response;
    }
}

internal sealed class FakeHttpClientFactory(HttpMessageHandler handler) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
}

internal static class FakeS3
{
    public static readonly Uri Endpoint = new("http://127.0.0.1:9/");

    public static S3StoreOptions FastOptions(int maxRetries = 3) => new()
    {
        Endpoint = Endpoint,
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        RetryMaxDelay = TimeSpan.FromMilliseconds(5),
    };

    public static S3ObjectClient Client(FakeS3Handler handler, S3StoreOptions? options = null, string prefix = "reg") =>
        S3ObjectClient.Create(options ?? FastOptions(), "bucket-a", prefix, new BasicAWSCredentials("AKIDFAKE", "fake-secret-key-never-logged"), new FakeHttpClientFactory(handler));
}
