using System.Collections.Concurrent;
using Amazon.Runtime;

namespace Z4Ai.Benchmarks.S3;

/// <summary>
/// Gives the AWS SDK an <see cref="HttpClient"/> whose handler counts every HTTP request by method and records the
/// response body length and the object path, so a measurement can say how many requests an operation made and how
/// many bytes travelled. Timeouts are those of the SDK configuration.
/// </summary>
internal sealed class CountingHttpClientFactory : HttpClientFactory
{
    private readonly ConcurrentQueue<Request> _requests = new();

    public readonly record struct Request(string Method, string Path, long ResponseBytes, int Status);

    public override HttpClient CreateHttpClient(IClientConfig clientConfig)
    {
        var sockets = new SocketsHttpHandler
        {
            ConnectTimeout = clientConfig.ConnectTimeout ?? TimeSpan.FromSeconds(10),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            MaxConnectionsPerServer = 64,
        };
        return new HttpClient(new CountingHandler(this, sockets), disposeHandler: true)
        {
            Timeout = clientConfig.Timeout ?? TimeSpan.FromMinutes(2),
        };
    }

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    /// <summary>Takes and clears what was recorded so far.</summary>
    public List<Request> Drain()
    {
        var taken = new List<Request>();
        while (_requests.TryDequeue(out Request r))
        {
            taken.Add(r);
        }

        return taken;
    }

    private sealed class CountingHandler(CountingHttpClientFactory owner, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            long length = response.Content.Headers.ContentLength ?? 0;
            owner._requests.Enqueue(new Request(request.Method.Method, request.RequestUri?.AbsolutePath ?? string.Empty, request.Method == HttpMethod.Head ? 0 : length, (int)response.StatusCode));
            return response;
        }
    }
}
