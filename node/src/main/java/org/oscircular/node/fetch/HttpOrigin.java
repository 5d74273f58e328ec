package org.oscircular.node.fetch;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An origin served over HTTP/1.1. Connections are kept alive and reused by the JDK client; a semaphore
 * bounds the requests in flight, and so the connections open, to {@code maxConnections}. A request that
 * has not completed within {@code timeout} is abandoned (the caller then tries the next mirror).
 */
public final class HttpOrigin implements Origin {
  private final URI base;
  private final HttpClient client;
  private final Semaphore slots;
  private final Duration timeout;

  public HttpOrigin(URI base, int maxConnections, Duration timeout) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("fetch.connections must be at least 1, got " + maxConnections);
    }
    this.base = base;
    this.timeout = timeout;
    this.slots = new Semaphore(maxConnections, true);
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @Override
  public byte[] get(String path, int maxLength) throws IOException {
    URI uri = base.resolve(path);
    var request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    try {
      slots.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for a connection to " + base, e);
    }
    var pending = client.sendAsync(request,
        HttpResponse.BodyHandlers.limiting(HttpResponse.BodyHandlers.ofByteArray(), maxLength));
    try {
      // The whole exchange, body included, must finish within the timeout: a slow origin is abandoned.
      HttpResponse<byte[]> response = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      int status = response.statusCode();
      if (status == 404) {
        throw new NoSuchFileException(uri.toString(), null, "HTTP 404");
      }
      if (status != 200) {
        throw new IOException(uri + ": HTTP " + status);
      }
      return response.body();
    } catch (TimeoutException e) {
      pending.cancel(true);
      throw new IOException(uri + ": no complete answer within " + timeout.toMillis() + " ms", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      String why = c instanceof java.net.ConnectException ? "cannot connect"
          : c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
      throw new IOException(uri + ": " + why, c);
    } catch (InterruptedException e) {
      pending.cancel(true);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching " + uri, e);
    } finally {
      slots.release();
    }
  }

  @Override
  public String describe() {
    return base.toString();
  }

  @Override
  public void close() {
    client.close();
  }
}
