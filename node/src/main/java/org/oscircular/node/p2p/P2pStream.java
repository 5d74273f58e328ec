package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import org.oscircular.protocol.p2p.PeerId;

/**
 * One yamux stream on a secured connection, after multistream-select agreed on {@link #protocol()}.
 *
 * <p>Writing: {@link #write(ByteBuf)} takes ownership of the buffer and returns a future that
 * completes once the bytes have been handed to the connection, which happens only as the peer grants
 * yamux window. A writer that waits for each future (or keeps a bounded number outstanding) gets
 * backpressure for free.
 *
 * <p>Reading: install a {@link StreamListener} with {@link #setListener}. Its callbacks run on the
 * connection's I/O thread and must not block. Received bytes count as consumed (and window credit
 * goes back to the peer) when {@code onData} returns; call {@link #setAutoRead(boolean) setAutoRead(false)}
 * to stop deliveries (the peer then stalls once its window is used up) and {@code true} to resume.
 *
 * <p>All methods are thread-safe.
 */
public interface P2pStream {
  /** The protocol id negotiated for this stream. */
  String protocol();

  PeerId remotePeer();

  Connection connection();

  /** Sends {@code data} (ownership passes to the stream). */
  CompletableFuture<Void> write(ByteBuf data);

  /** Half-closes: sends FIN after all pending writes. The peer may keep sending. */
  CompletableFuture<Void> closeWrite();

  /** Aborts the stream in both directions (RST); pending writes fail. */
  void reset();

  void setListener(StreamListener listener);

  void setAutoRead(boolean autoRead);

  /** Completes when the stream is fully closed (both FINs) or reset. */
  CompletableFuture<Void> closeFuture();
}
