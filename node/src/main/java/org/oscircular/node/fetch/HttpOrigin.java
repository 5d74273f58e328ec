package org.oscircular.node.fetch;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An origin served over HTTP/1.1 by any static web server. Connections are kept alive and reused; a
 * semaphore bounds the requests in flight, and so the connections open, to {@code maxConnections}. The
 * whole exchange, body included, must finish within {@code timeout}, else it is abandoned (the caller then
 * tries the next mirror). Redirects are followed. A 404/410 is {@link OriginException.Kind#NOT_FOUND}, a 5xx
 * {@link OriginException.Kind#SERVER_ERROR}, an oversized body or an HTML page instead of the catalog or a
 * table {@link OriginException.Kind#NOT_AN_ARCHIVE}.
 */
public final class HttpOrigin implements Origin {
  private final URI base;
  private final HttpClient client;
  private final Semaphore slots;
  private final Duration timeout;

  public HttpOrigin(URI base, int maxConnections, Duration timeout) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("fetch.origin-connections must be at least 1, got " + maxConnections);
    }
    this.base = base;
    this.timeout = timeout;
    this.slots = new Semaphore(maxConnections, true);
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build();
  }

  @Override
  public byte[] get(String path, int maxLength) throws IOException {
    URI uri = base.resolve(path);
    var request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    try {
      slots.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for a connection to " + base);
    }
    var pending = client.sendAsync(request,
        HttpResponse.BodyHandlers.limiting(HttpResponse.BodyHandlers.ofByteArray(), maxLength + 1L));
    try {
      HttpResponse<byte[]> response = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return body(path, response, maxLength);
    } catch (TimeoutException e) {
      pending.cancel(true);
      throw new OriginException(OriginException.Kind.UNREACHABLE, "origin " + base + " did not answer within "
          + Origin.humanDuration(timeout) + " while fetching " + path, e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof ConnectException) {
        throw new OriginException(OriginException.Kind.UNREACHABLE,
            "origin " + base + " is unreachable (connection refused) while fetching " + path, c);
      }
      if (c instanceof IOException io && io.getMessage() != null && io.getMessage().contains("exceeds limit")) {
        throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE,
            "origin " + base + " sent more than " + maxLength + " bytes for " + path, c);
      }
      throw new OriginException(OriginException.Kind.UNREACHABLE,
          "origin " + base + " failed while fetching " + path + ": " + describe(c), c);
    } catch (InterruptedException e) {
      pending.cancel(true);
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while fetching " + path + " from " + base);
    } finally {
      slots.release();
    }
  }

  private byte[] body(String path, HttpResponse<byte[]> response, int maxLength) throws OriginException {
    int status = response.statusCode();
    if (status == 404 || status == 410) {
      throw new OriginException(OriginException.Kind.NOT_FOUND, "origin " + base + " has no " + path + " (HTTP " + status + ")");
    }
    if (status >= 500) {
      throw new OriginException(OriginException.Kind.SERVER_ERROR, "origin " + base + " answered HTTP " + status + " for " + path);
    }
    if (status != 200) {
      throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE, "origin " + base + " answered HTTP " + status + " for " + path);
    }
    byte[] data = response.body();
    if (data.length > maxLength) {
      throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE,
          "origin " + base + " sent more than " + maxLength + " bytes for " + path);
    }
    // A block's bytes may be anything (its hashes decide); signed documents never look like a web page.
    String type = response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
    if (!Origin.isBlock(path) && (type.contains("html") || Origin.looksLikeHtml(data))) {
      throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE, "origin " + base + " returned an HTML page for "
          + path + " instead of an archive file (is the URL the origin's root?)");
    }
    return data;
  }

  private static String describe(Throwable t) {
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  @Override
  public String describe() {
    return base.toString();
  }

  @Override
  public void close() {
    client.shutdownNow();
  }
}
