package org.oscircular.node.fetch;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * An origin served over HTTP/1.1 by any static web server, with a Netty client: persistent keep-alive
 * connections, at most {@code maxConnections} requests (and so connections) in flight, idle connections
 * reused most-recent first. One event-loop thread does the socket I/O and copies each body once into its
 * final array; the calling threads (virtual threads of the readers, pin and readahead) wait, then verify
 * and store, so hashing runs in parallel on every core. Connecting must succeed within {@code timeout},
 * and then the answer must not stall: the first bytes must arrive within {@code timeout} of the request,
 * and each later piece within {@code timeout} of the one before, else the connection is dropped and the
 * request abandoned (the caller then tries the next mirror). A slow origin that keeps sending is waited
 * for: when many machines share a thin link, a block may take longer than the timeout to arrive whole,
 * and abandoning it would only start the same transfer again. Redirects (301, 302, 303, 307, 308) are followed, up to five. A 404/410 is
 * {@link OriginException.Kind#NOT_FOUND}, a 5xx {@link OriginException.Kind#SERVER_ERROR}, an oversized
 * body or an HTML page instead of the catalog or a table {@link OriginException.Kind#NOT_AN_ARCHIVE}.
 */
public final class HttpOrigin implements Origin {
  private static final int MAX_REDIRECTS = 5;
  private final URI base;
  private final Duration timeout;
  private final Semaphore slots;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final Map<Endpoint, ConcurrentLinkedDeque<Channel>> idle = new ConcurrentHashMap<>();
  private volatile SslContext ssl;

  /** Where a connection goes. */
  private record Endpoint(boolean tls, String host, int port) {
    static Endpoint of(URI u) {
      boolean tls = "https".equalsIgnoreCase(u.getScheme());
      return new Endpoint(tls, u.getHost(), u.getPort() >= 0 ? u.getPort() : tls ? 443 : 80);
    }

    String hostHeader() {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return port == (tls ? 443 : 80) ? h : h + ":" + port;
    }
  }

  public HttpOrigin(URI base, int maxConnections, Duration timeout) {
    if (maxConnections < 1) {
      throw new IllegalArgumentException("fetch.origin-connections must be at least 1, got " + maxConnections);
    }
    this.base = base;
    this.timeout = timeout;
    this.slots = new Semaphore(maxConnections, true);
    boolean epoll = Epoll.isAvailable();
    this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("origin-http", true),
        epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    this.bootstrap = new Bootstrap().group(group)
        .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(4096, 64 * 1024, 256 * 1024));
    // Load the pipeline's classes now, not inside the first request's time budget (a node starting on a
    // busy machine otherwise spends part of fetch.timeout loading and verifying them).
    new HttpClientCodec(new HttpDecoderConfig(), false, false);
    new ResponseReader();
  }

  @Override
  public byte[] get(String path, int maxLength) throws IOException {
    try {
      slots.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for a connection to " + base);
    }
    try {
      URI uri = base.resolve(path);
      for (int hop = 0; ; hop++) {
        ResponseReader.Response r = exchange(uri, path, maxLength);
        if (isRedirect(r.status()) && r.location() != null) {
          if (hop >= MAX_REDIRECTS) {
            throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE,
                "origin " + base + " redirected more than " + MAX_REDIRECTS + " times for " + path);
          }
          uri = redirect(uri, r.location(), path);
          continue;
        }
        return body(path, r, maxLength);
      }
    } finally {
      slots.release();
    }
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private URI redirect(URI from, String location, String path) throws OriginException {
    try {
      URI to = from.resolve(location.strip());
      if (!"http".equalsIgnoreCase(to.getScheme()) && !"https".equalsIgnoreCase(to.getScheme()) || to.getHost() == null) {
        throw new IllegalArgumentException("not an http(s) URL");
      }
      return to;
    } catch (IllegalArgumentException e) {
      throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE,
          "origin " + base + " redirected " + path + " to an unusable location '" + location + "'");
    }
  }

  /**
   * One request and its answer on a pooled connection; a reused connection found dead is replaced once.
   * Connecting may take up to the timeout; then the answer may pause for up to the timeout at a time.
   */
  private ResponseReader.Response exchange(URI uri, String path, int maxLength) throws IOException {
    Endpoint ep = Endpoint.of(uri);
    for (int attempt = 0; ; attempt++) {
      Channel reused = poll(ep);
      Channel ch = reused != null ? reused : connect(ep, path, System.nanoTime() + timeout.toNanos());
      long sent = System.nanoTime();
      var reader = ch.pipeline().get(ResponseReader.class);
      if (reader == null) {
        // The channel closed (its pipeline torn down) between being taken and used: a pooled one the server
        // closed while idle is replaced by another; a fresh one closed by the server at once is an error.
        ch.close();
        if (reused != null) {
          continue;
        }
        throw new OriginException(OriginException.Kind.UNREACHABLE,
            "origin " + base + " closed the connection before " + path + " was asked");
      }
      var answer = new CompletableFuture<ResponseReader.Response>();
      var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target(uri), Unpooled.EMPTY_BUFFER);
      request.headers().set(HttpHeaderNames.HOST, ep.hostHeader())
          .set(HttpHeaderNames.USER_AGENT, "circular")
          .set(HttpHeaderNames.ACCEPT, "*/*");
      ch.eventLoop().execute(() -> {
        reader.expect(answer, maxLength);
        ch.writeAndFlush(request).addListener(w -> {
          if (!w.isSuccess()) {
            answer.completeExceptionally(w.cause());
          }
        });
      });
      try {
        ResponseReader.Response r = awaitWhileSending(answer, reader, sent);
        if (r.keepAlive() && ch.isActive()) {
          idle.computeIfAbsent(ep, k -> new ConcurrentLinkedDeque<>()).offerFirst(ch);
        } else {
          ch.close();
        }
        return r;
      } catch (TimeoutException e) {
        ch.close();
        throw new OriginException(OriginException.Kind.UNREACHABLE, reader.started()
            ? "origin " + base + " sent nothing for " + Origin.humanDuration(timeout) + " in the middle of " + path
            : "origin " + base + " did not answer within " + Origin.humanDuration(timeout) + " while fetching " + path, e);
      } catch (InterruptedException e) {
        ch.close();
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while fetching " + path + " from " + base);
      } catch (ExecutionException e) {
        ch.close();
        Throwable c = e.getCause();
        boolean stale = reused != null && !startedOn(ch) && !(c instanceof ResponseReader.TooLargeException);
        if (stale && attempt == 0) {
          continue; // the server closed this idle connection just as we used it: once more on a new one
        }
        if (c instanceof ResponseReader.TooLargeException) {
          throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE, "origin " + base + " " + c.getMessage()
              + " for " + path, c);
        }
        if (c instanceof NotSslRecordException) { // its message is the answer in hex
          throw new OriginException(OriginException.Kind.UNREACHABLE, "origin " + base
              + " answered in plain HTTP, not TLS (write http:// instead of https://)", c);
        }
        if (c instanceof SslHandshakeTimeoutException) {
          throw new OriginException(OriginException.Kind.UNREACHABLE, "origin " + base
              + " did not complete a TLS handshake (" + describe(c) + "; is it a plain http:// server?)", c);
        }
        if (c instanceof SSLException) {
          throw new OriginException(OriginException.Kind.UNREACHABLE, "origin " + base + ": TLS failed while fetching "
              + path + ": " + describe(c), c);
        }
        throw new OriginException(OriginException.Kind.UNREACHABLE,
            "origin " + base + " broke off while sending " + path + ": " + describe(c), c);
      }
    }
  }

  /** Waits for the answer as long as bytes keep arriving: a pause of the timeout (from the request on) ends it. */
  private ResponseReader.Response awaitWhileSending(CompletableFuture<ResponseReader.Response> answer,
      ResponseReader reader, long sent) throws InterruptedException, ExecutionException, TimeoutException {
    long limit = timeout.toNanos();
    while (true) {
      long quiet = System.nanoTime() - Math.max(sent, reader.lastRead());
      if (quiet >= limit) {
        throw new TimeoutException();
      }
      try {
        return answer.get(limit - quiet, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        // bytes may have arrived meanwhile: measure the pause again
      }
    }
  }

  private static boolean startedOn(Channel ch) {
    var reader = ch.pipeline().get(ResponseReader.class);
    return reader != null && reader.started();
  }

  private Channel poll(Endpoint ep) {
    var q = idle.get(ep);
    if (q == null) {
      return null;
    }
    for (Channel ch; (ch = q.pollFirst()) != null; ) {
      if (ch.isActive()) {
        return ch;
      }
    }
    return null;
  }

  private Channel connect(Endpoint ep, String path, long deadline) throws IOException {
    SslContext tls = ep.tls() ? sslContext() : null;
    ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (tls != null) {
          SSLEngine engine = tls.newEngine(ch.alloc(), ep.host(), ep.port());
          SSLParameters params = engine.getSSLParameters();
          params.setEndpointIdentificationAlgorithm("HTTPS");
          engine.setSSLParameters(params);
          ch.pipeline().addLast(new SslHandler(engine));
        }
        ch.pipeline().addLast(new HttpClientCodec(new HttpDecoderConfig().setMaxChunkSize(1 << 20), false, false));
        ch.pipeline().addLast(new ResponseReader());
      }
    }).connect(ep.host(), ep.port());
    try {
      if (!f.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        f.channel().close();
        throw new OriginException(OriginException.Kind.UNREACHABLE, "origin " + base + " did not answer within "
            + Origin.humanDuration(timeout) + " while fetching " + path);
      }
    } catch (InterruptedException e) {
      f.channel().close();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while connecting to " + base);
    }
    if (!f.isSuccess()) {
      Throwable c = f.cause();
      if (c instanceof ConnectTimeoutException) {
        throw new OriginException(OriginException.Kind.UNREACHABLE, "origin " + base + " did not answer within "
            + Origin.humanDuration(timeout) + " while fetching " + path, c);
      }
      if (c instanceof ConnectException) {
        throw new OriginException(OriginException.Kind.UNREACHABLE,
            "origin " + base + " is unreachable (connection refused) while fetching " + path, c);
      }
      if (c instanceof UnknownHostException) {
        throw new OriginException(OriginException.Kind.UNREACHABLE,
            "origin " + base + " is unreachable (unknown host " + ep.host() + ") while fetching " + path, c);
      }
      throw new OriginException(OriginException.Kind.UNREACHABLE,
          "origin " + base + " is unreachable while fetching " + path + ": " + describe(c), c);
    }
    return f.channel();
  }

  private SslContext sslContext() throws IOException {
    SslContext s = ssl;
    if (s == null) {
      synchronized (this) {
        if (ssl == null) {
          try {
            ssl = SslContextBuilder.forClient().build();
          } catch (SSLException e) {
            throw new IOException("cannot set up TLS for " + base + ": " + e.getMessage(), e);
          }
        }
        s = ssl;
      }
    }
    return s;
  }

  private static String target(URI u) {
    String p = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    return u.getRawQuery() == null ? p : p + "?" + u.getRawQuery();
  }

  private byte[] body(String path, ResponseReader.Response r, int maxLength) throws OriginException {
    int status = r.status();
    if (status == 404 || status == 410) {
      throw new OriginException(OriginException.Kind.NOT_FOUND, "origin " + base + " has no " + path + " (HTTP " + status + ")");
    }
    if (status >= 500) {
      throw new OriginException(OriginException.Kind.SERVER_ERROR, "origin " + base + " answered HTTP " + status + " for " + path);
    }
    if (status != 200) {
      throw new OriginException(OriginException.Kind.NOT_AN_ARCHIVE, "origin " + base + " answered HTTP " + status + " for " + path);
    }
    byte[] data = r.body();
    // A block's bytes may be anything (its hashes decide); signed documents never look like a web page.
    if (!Origin.isBlock(path) && (r.contentType().toLowerCase(Locale.ROOT).contains("html") || Origin.looksLikeHtml(data))) {
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
    idle.values().forEach(q -> q.forEach(Channel::close));
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
