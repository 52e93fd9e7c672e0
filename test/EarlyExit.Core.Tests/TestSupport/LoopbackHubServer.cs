using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace EarlyExit.Tests.TestSupport;

/// <summary>
/// A tiny stand-in for the Hugging Face hub on 127.0.0.1, started by a test: serves files under
/// /{repo}/resolve/{revision}/{file} (via a redirect for LFS-like files, with X-Linked-Etag = sha256,
/// as the hub does; small files carry their git blob sha1 as ETag, also as the hub does), honours Range + If-Range, records every request, and can be told to cut a
/// response short or corrupt it. Traffic never leaves the loopback interface.
/// </summary>
internal sealed class LoopbackHubServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _largeFiles = new(StringComparer.Ordinal);
    private readonly Task _loop;

    public LoopbackHubServer()
    {
        Port = FreePort();
        Endpoint = $"http://127.0.0.1:{Port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint { get; }

    /// <summary>Every request as "METHOD path [Range: ...]".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>For the next N responses of a path: stop after this many bytes and drop the connection.</summary>
    public ConcurrentDictionary<string, (int Times, int Bytes)> CutShort { get; } = new();

    /// <summary>Paths whose body is served with one byte flipped.</summary>
    public ConcurrentDictionary<string, bool> Corrupt { get; } = new();

    /// <summary>Publishes a file; "large" files go through a redirect to /cdn/... with X-Linked-Etag (sha256).</summary>
    public void AddFile(string repoId, string fileName, byte[] content, bool large = false, string revision = "main")
    {
        string path = $"/{repoId}/resolve/{revision}/{fileName}";
        _files[path] = content;
        if (large)
        {
            _largeFiles.Add(path);
        }
    }

    public int CountRequests(string fragment) => Requests.Count(r => r.Contains(fragment, StringComparison.Ordinal));

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private static string GitBlobSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. System.Text.Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                Handle(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away; nothing to do.
            }
        }
    }

    private void Handle(HttpListenerContext context)
    {
        HttpListenerRequest request = context.Request;
        HttpListenerResponse response = context.Response;
        string path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        string? range = request.Headers["Range"];
        Requests.Enqueue($"{request.HttpMethod} {path}{(range is null ? "" : " Range: " + range)}{(request.Headers["If-Range"] is string ifRange ? " If-Range: " + ifRange : "")}");

        bool viaCdn = path.StartsWith("/cdn", StringComparison.Ordinal);
        string filePath = viaCdn ? path["/cdn".Length..] : path;
        if (!_files.TryGetValue(filePath, out byte[]? content))
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }

        string sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        if (!viaCdn && _largeFiles.Contains(filePath))
        {
            response.StatusCode = 302;
            response.AddHeader("Location", "/cdn" + filePath);
            response.AddHeader("X-Linked-Etag", $"\"{sha256}\"");
            response.Close();
            return;
        }

        string etag = _largeFiles.Contains(filePath) ? $"\"{sha256}\"" : $"\"{GitBlobSha1(content)}\"";
        response.AddHeader("ETag", etag);
        response.AddHeader("Accept-Ranges", "bytes");
        long start = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-')
            && (request.Headers["If-Range"] is null || request.Headers["If-Range"] == etag))
        {
            start = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (start >= content.Length)
            {
                response.StatusCode = 416;
                response.Close();
                return;
            }

            response.StatusCode = 206;
            response.AddHeader("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}");
        }

        byte[] body = content[(int)start..];
        if (Corrupt.ContainsKey(filePath))
        {
            body = (byte[])body.Clone();
            body[^1] ^= 0xff;
        }

        response.ContentLength64 = body.Length;
        if (request.HttpMethod == "HEAD")
        {
            response.Close();
            return;
        }

        if (CutShort.TryGetValue(filePath, out var cut) && cut.Times > 0)
        {
            CutShort[filePath] = (cut.Times - 1, cut.Bytes);
            response.OutputStream.Write(body, 0, Math.Min(cut.Bytes, body.Length));
            response.OutputStream.Flush();
            response.Abort();
            return;
        }

        response.OutputStream.Write(body);
        response.Close();
    }
}
