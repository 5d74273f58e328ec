package org.oscircular.node.origin;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Locale;

/**
 * An origin served over HTTP/1.1 by any static web server. The JDK client keeps connections alive and
 * pools them, so parallel callers reuse a handful of connections.
 */
public final class HttpOrigin implements OriginReader {
  /** No archive file is larger than this (tables are capped at 64 MiB, blocks at 4.5 MiB). */
  static final int MAX_FILE_BYTES = 80 * 1024 * 1024;

  private final URI base;
  private final String spec;
  private final HttpClient client;
  private final Duration timeout;

  private HttpOrigin(String spec, URI base, HttpClient client, Duration timeout) {
    this.spec = spec;
    this.base = base;
    this.client = client;
    this.timeout = timeout;
  }

  static HttpOrigin create(String spec, Duration timeout) {
    String b = spec.endsWith("/") ? spec : spec + "/";
    URI base;
    try {
      base = URI.create(b);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("origin '" + spec + "' is not a valid URL: " + e.getMessage());
    }
    if (base.getHost() == null) {
      throw new IllegalArgumentException("origin '" + spec + "' has no host");
    }
    HttpClient client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
    return new HttpOrigin(spec, base, client, timeout);
  }

  @Override
  public byte[] read(String path) throws IOException {
    URI uri = base.resolve(path);
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    HttpResponse<InputStream> resp;
    try {
      resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
    } catch (ConnectException e) {
      throw new OriginException(OriginException.Kind.UNREACHABLE,
          "origin " + spec + " is unreachable (connection refused) while fetching " + path, e);
    } catch (HttpTimeoutException e) {
      throw new OriginException(OriginException.Kind.UNREACHABLE,
          "origin " + spec + " did not answer within " + timeout.toSeconds() + " s while fetching " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while fetching " + path + " from " + spec);
    } catch (IOException e) {
      throw new OriginException(OriginException.Kind.UNREACHABLE,
          "origin " + spec + " failed while fetching " + path + ": " + describe(e), e);
    }
    try (InputStream body = resp.body()) {
      int status = resp.statusCode();
      if (status == 404 || status == 410) {
        throw new OriginException(OriginException.Kind.NOT_FOUND,
            "origin " + spec + " has no " + path + " (HTTP " + status + ")");
      }
      if (status >= 500) {
        throw new OriginException(OriginException.Kind.SERVER_ERROR,
            "origin " + spec + " answered HTTP " + status + " for " + path);
      }
      if (status != 200) {
        throw new OriginException(OriginException.Kind.NOT_FOUND,
            "origin " + spec + " answered HTTP " + status + " for " + path);
      }
      byte[] data = body.readNBytes(MAX_FILE_BYTES + 1);
      if (data.length > MAX_FILE_BYTES) {
        throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE,
            "origin " + spec + " sent more than " + MAX_FILE_BYTES + " bytes for " + path);
      }
      String type = resp.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
      if (type.contains("html") || OriginReader.looksLikeHtml(data)) {
        throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE, "origin " + spec
            + " returned an HTML page for " + path + " instead of an archive file (is the URL the origin's root?)");
      }
      return data;
    } catch (IOException e) {
      if (e instanceof OriginException) {
        throw e;
      }
      throw new OriginException(OriginException.Kind.UNREACHABLE,
          "origin " + spec + " broke off while sending " + path + ": " + describe(e), e);
    }
  }

  private static String describe(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  @Override
  public String describe() {
    return spec;
  }

  @Override
  public void close() {
    client.shutdownNow();
  }
}
