package org.oscircular.node.fetch;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * The last handler of an origin connection: gathers one HTTP response at a time into a {@link Response},
 * copying a 200 body straight from the socket buffers into one array of its exact size (the only copy in
 * user space; hashing and storing then work on that array, on the caller's thread, never on the event
 * loop). Bodies of other statuses are read and dropped so the connection stays usable. Runs on the
 * channel's event loop only.
 */
final class ResponseReader extends ChannelInboundHandlerAdapter {
  /** A body larger than allowed: not an archive file. */
  static final class TooLargeException extends IOException {
    TooLargeException(String message) {
      super(message);
    }
  }

  /**
   * One complete answer.
   *
   * @param keepAlive whether the connection may carry the next request
   */
  record Response(int status, String contentType, String location, byte[] body, boolean keepAlive) {}

  private static final int MAX_ERROR_BODY = 1 << 20;

  private CompletableFuture<Response> pending;
  private int maxLength;
  private boolean started;
  private int status;
  private String contentType;
  private String location;
  private boolean keepAlive;
  private byte[] body;
  private int length;
  private long discarded;
  /** {@link System#nanoTime()} of the last bytes received; read by the waiting caller, off the event loop. */
  private volatile long lastRead = System.nanoTime();

  /** Expects the answer to the request written next; called on the event loop. */
  void expect(CompletableFuture<Response> future, int maxBodyLength) {
    pending = future;
    maxLength = maxBodyLength;
    started = false;
    body = null;
    length = 0;
    discarded = 0;
  }

  /** When bytes last arrived on this connection ({@link System#nanoTime()}); any thread may ask. */
  long lastRead() {
    return lastRead;
  }

  /** Whether any byte of the current answer has arrived (a request on a stale connection gets none). */
  boolean started() {
    return started;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastRead = System.nanoTime();
    try {
      if (pending == null) {
        ctx.close(); // an answer nobody asked for: this connection is out of step
        return;
      }
      started = true;
      if (msg instanceof HttpResponse r) {
        if (r.decoderResult().isFailure()) {
          fail(ctx, new IOException("malformed HTTP answer: " + r.decoderResult().cause().getMessage()));
          return;
        }
        begin(ctx, r);
      }
      if (pending != null && msg instanceof HttpContent c) {
        if (c.decoderResult().isFailure()) {
          Throwable why = c.decoderResult().cause();
          fail(ctx, why instanceof io.netty.handler.codec.PrematureChannelClosureException
              ? new IOException("the connection closed before the answer was complete")
              : new IOException("malformed HTTP body: " + why.getMessage()));
          return;
        }
        append(ctx, c.content());
        if (pending != null && msg instanceof LastHttpContent) {
          finish();
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void begin(ChannelHandlerContext ctx, HttpResponse r) {
    status = r.status().code();
    contentType = r.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
    location = r.headers().get(HttpHeaderNames.LOCATION);
    keepAlive = HttpUtil.isKeepAlive(r);
    long declared = HttpUtil.getContentLength(r, -1L);
    if (status != 200) {
      return;
    }
    if (declared > maxLength) {
      fail(ctx, new TooLargeException("sent " + declared + " bytes, more than the " + maxLength + " expected"));
      return;
    }
    body = new byte[declared >= 0 ? (int) declared : Math.min(maxLength, 64 * 1024)];
  }

  private void append(ChannelHandlerContext ctx, ByteBuf content) {
    int n = content.readableBytes();
    if (n == 0) {
      return;
    }
    if (body == null) {
      discarded += n;
      if (discarded > MAX_ERROR_BODY) {
        keepAlive = false;
        finish(); // the status is what matters; do not read a huge error page
        ctx.close();
      }
      return;
    }
    if ((long) length + n > maxLength) {
      fail(ctx, new TooLargeException("sent more than the " + maxLength + " bytes expected"));
      return;
    }
    if (length + n > body.length) {
      body = Arrays.copyOf(body, (int) Math.min(maxLength, Math.max((long) body.length * 2, (long) length + n)));
    }
    content.readBytes(body, length, n);
    length += n;
  }

  private void finish() {
    byte[] b = body == null ? new byte[0] : length == body.length ? body : Arrays.copyOf(body, length);
    var f = pending;
    pending = null;
    body = null;
    f.complete(new Response(status, contentType, location, b, keepAlive));
  }

  private void fail(ChannelHandlerContext ctx, Throwable t) {
    var f = pending;
    pending = null;
    body = null;
    if (f != null) {
      f.completeExceptionally(t);
    }
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (pending != null) {
      fail(ctx, new IOException("the connection closed before the answer was complete"));
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail(ctx, cause);
  }
}
