// Downloads single files from the Hugging Face hub's standard file URLs:
//   {endpoint}/{repo id}/resolve/{revision}/{file name}
//
// Guarantees:
// - Atomic: bytes go to "<file>.part"; only a complete, verified file is renamed to "<file>", so a
//   file under its final name is always whole. A crash or a dropped connection leaves the .part.
// - Resumable: a later attempt (in the same call, up to MaxRetries, or in a later process) asks for
//   "Range: bytes=<part length>-" with If-Range set to the ETag the part was started with, and
//   appends when the server answers 206; a 200 means the file changed (or ranges are unsupported),
//   so it starts over.
// - Verified: the hub names each file's hash in its ETag (X-Linked-Etag on the redirect of large LFS
//   files: sha256; plain ETag of small files: the git blob sha1). When present, the finished file must
//   match it, else the .part is deleted and the download fails.
// Redirects are followed by hand (to read X-Linked-Etag, and to send the token only to the hub itself).
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace EarlyExit.Hub;

/// <summary>The hub has no such file (HTTP 404) at the requested revision.</summary>
public sealed class HubFileNotFoundException : FileNotFoundException
{
    /// <summary>Creates the exception.</summary>
    public HubFileNotFoundException(string repoId, string fileName, Uri url)
        : base($"The Hugging Face hub has no file '{fileName}' in model '{repoId}' ({url}).", fileName)
    {
        RepoId = repoId;
    }

    /// <summary>The model id.</summary>
    public string RepoId { get; }
}

/// <summary>Downloads files from the hub into a folder, atomically and resumably. Thread-safe for distinct files.</summary>
internal sealed class HubFileDownloader : IDisposable
{
    private const int MaxRedirects = 10;
    private const string EtagSidecarSuffix = ".etag";
    private readonly HubOptions _options;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    /// <summary>Creates a downloader with <paramref name="options"/> (endpoint, token, retries, handler).</summary>
    public HubFileDownloader(HubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        if (!Uri.TryCreate(options.Endpoint.TrimEnd('/') + "/", UriKind.Absolute, out Uri? endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Hub endpoint '{options.Endpoint}' is not an http(s) URL.", nameof(options));
        }

        _endpoint = endpoint;
        HttpMessageHandler handler = options.HttpHandler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.RequestTimeout,
        };
        _http = new HttpClient(handler, disposeHandler: options.HttpHandler is null) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("EarlyExit.MLNet", "1.0"));
    }

    /// <summary>The URL of <paramref name="fileName"/> in <paramref name="repoId"/> at the configured revision.</summary>
    public Uri FileUrl(string repoId, string fileName) =>
        new(_endpoint, $"{repoId}/resolve/{Uri.EscapeDataString(_options.Revision)}/{string.Join('/', fileName.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>
    /// Downloads <paramref name="fileName"/> of <paramref name="repoId"/> to <paramref name="destination"/>,
    /// resuming a <c>.part</c> left by an earlier attempt.
    /// </summary>
    /// <exception cref="HubFileNotFoundException">The hub has no such file.</exception>
    /// <exception cref="IOException">The download failed after every retry, or the file did not match its hash; the message says which.</exception>
    public async Task DownloadAsync(string repoId, string fileName, string destination, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        string part = destination + ".part";
        Uri url = FileUrl(repoId, fileName);
        Exception? lastError = null;
        for (int attempt = 0; attempt <= _options.MaxRetries; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await DownloadOnceAsync(repoId, fileName, url, part, cancellationToken).ConfigureAwait(false);
                File.Move(part, destination, overwrite: true);
                File.Delete(part + EtagSidecarSuffix);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException && e is not HubFileNotFoundException && e is not HubIntegrityException
                                      || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                lastError = e;
            }
        }

        long kept = File.Exists(part) ? new FileInfo(part).Length : 0;
        throw new IOException(
            $"Downloading '{fileName}' of model '{repoId}' from {url} failed after {_options.MaxRetries + 1} attempt(s): {lastError?.Message} " +
            $"{kept} byte(s) are kept in '{part}' and the next attempt resumes from there. Without network access, put the model's files in a folder " +
            $"and pass its path, or set {HubOptions.MirrorVariable} to a mirror (layout models/<id with '/' replaced by '-'>/).", lastError);
    }

    /// <summary>Whether the hub has <paramref name="fileName"/> in <paramref name="repoId"/> (a HEAD request).</summary>
    public async Task<bool> ExistsAsync(string repoId, string fileName, CancellationToken cancellationToken = default)
    {
        using HttpResponseMessage response = await SendAsync(HttpMethod.Head, FileUrl(repoId, fileName), null, null, cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task DownloadOnceAsync(string repoId, string fileName, Uri url, string part, CancellationToken cancellationToken)
    {
        long existing = File.Exists(part) ? new FileInfo(part).Length : 0;
        string etagFile = part + EtagSidecarSuffix;
        string? partEtag = existing > 0 && File.Exists(etagFile) ? File.ReadAllText(etagFile) : null;
        if (existing > 0 && partEtag is null)
        {
            // A part without a recorded ETag cannot be resumed safely.
            File.Delete(part);
            existing = 0;
        }

        using HttpResponseMessage response = await SendAsync(HttpMethod.Get, url, existing > 0 ? existing : null, partEtag, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new HubFileNotFoundException(repoId, fileName, url);
        }

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new UnauthorizedAccessException(
                $"The hub refused '{fileName}' of model '{repoId}' ({(int)response.StatusCode} {response.ReasonPhrase}): the model may be gated or private. " +
                "Accept its terms on the hub and set HF_TOKEN (or HubOptions.Token) to an access token.");
        }

        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            File.Delete(part);
            throw new IOException($"The server rejected resuming '{fileName}' at byte {existing}; starting over.");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        string? expectedHash = ExpectedHash(response);
        bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (resumed && response.Content.Headers.ContentRange?.From != existing)
        {
            File.Delete(part);
            throw new IOException($"The server resumed '{fileName}' at the wrong offset; starting over.");
        }

        if (!resumed)
        {
            existing = 0;
        }

        long? total = resumed ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;
        File.WriteAllText(etagFile, expectedHash ?? EntityTag(response) ?? string.Empty);
        await using (var output = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        await using (Stream input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
        {
            byte[] buffer = new byte[1 << 16];
            long done = existing;
            int read;
            while ((read = await ReadWithTimeoutAsync(input, buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                done += read;
                _options.Progress?.Report(new HubDownloadProgress(repoId, fileName, done, total));
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (total is long expectedLength && done != expectedLength)
            {
                throw new IOException($"The connection closed after {done} of {expectedLength} bytes.");
            }
        }

        if (expectedHash is not null)
        {
            string actual = await HashAsync(part, expectedHash.Length == 64, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, expectedHash, StringComparison.OrdinalIgnoreCase))
            {
                File.Delete(part);
                File.Delete(etagFile);
                throw new HubIntegrityException(
                    $"Downloaded '{fileName}' of model '{repoId}' does not match the hash the hub announced ({expectedHash}, got {actual}); it was deleted. Try again.");
            }
        }
    }

    private async Task<int> ReadWithTimeoutAsync(Stream input, byte[] buffer, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(_options.RequestTimeout);
        try
        {
            return await input.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"No data arrived for {_options.RequestTimeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>Sends a request, following redirects by hand; the token goes only to the hub's own host.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, long? rangeFrom, string? ifRange, CancellationToken cancellationToken)
    {
        string? linkedEtag = null;
        for (int redirect = 0; ; redirect++)
        {
            using var request = new HttpRequestMessage(method, url);
            if (_options.Token is not null && url.Host == _endpoint.Host)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
            }

            if (rangeFrom is long from)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
                if (!string.IsNullOrEmpty(ifRange) && EntityTagHeaderValue.TryParse(Quote(ifRange), out EntityTagHeaderValue? tag))
                {
                    request.Headers.IfRange = new RangeConditionHeaderValue(tag);
                }
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException($"{url} did not answer within {_options.RequestTimeout.TotalSeconds:0} s.");
            }

            linkedEtag ??= Header(response, "X-Linked-Etag");
            int status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is Uri location)
            {
                response.Dispose();
                if (redirect >= MaxRedirects)
                {
                    throw new HttpRequestException($"More than {MaxRedirects} redirects for {url}.");
                }

                url = location.IsAbsoluteUri ? location : new Uri(url, location);
                continue;
            }

            if (linkedEtag is not null)
            {
                response.Headers.TryAddWithoutValidation("X-Linked-Etag", linkedEtag);
            }

            return response;
        }
    }

    /// <summary>The content hash the hub announces: sha256 (64 hex) or git blob sha1 (40 hex), else null.</summary>
    private static string? ExpectedHash(HttpResponseMessage response)
    {
        foreach (string? candidate in new[] { Header(response, "X-Linked-Etag"), EntityTag(response) })
        {
            string? value = candidate is null ? null : Unquote(candidate);
            if (value is not null && (value.Length is 64 or 40) && value.All(Uri.IsHexDigit))
            {
                return value.ToLowerInvariant();
            }
        }

        return null;
    }

    private static string? EntityTag(HttpResponseMessage response) => response.Headers.ETag?.Tag is string tag ? Unquote(tag) : Header(response, "ETag");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;

    private static string Unquote(string value)
    {
        string trimmed = value.Trim();
        if (trimmed.StartsWith("W/", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }

        return trimmed.Trim('"');
    }

    private static string Quote(string value) => value.StartsWith('"') ? value : $"\"{value}\"";

    /// <summary>sha256 of the file, or (for 40-hex ETags) the git blob sha1: sha1("blob &lt;length&gt;\0" + content).</summary>
    private static async Task<string> HashAsync(string path, bool sha256, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (sha256)
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        byte[] buffer = new byte[1 << 16];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha1.AppendData(buffer, 0, read);
        }

        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }
}

/// <summary>A downloaded file did not match the hash the hub announced; it was deleted.</summary>
public sealed class HubIntegrityException : IOException
{
    /// <summary>Creates the exception.</summary>
    public HubIntegrityException(string message)
        : base(message)
    {
    }
}
