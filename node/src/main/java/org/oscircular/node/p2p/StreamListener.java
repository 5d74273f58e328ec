package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;

/** Receives what arrives on a {@link P2pStream}; callbacks run on the connection's I/O thread. */
public interface StreamListener {
  /**
   * Bytes from the peer. {@code data} is valid only during the call and is released afterwards;
   * {@code retain()} it (or copy) to keep it.
   */
  void onData(P2pStream stream, ByteBuf data);

  /** The peer half-closed its side (FIN): no more data will arrive. */
  default void onReadClosed(P2pStream stream) {}

  /** The stream was reset by the peer or the connection ended; {@code cause} says why. */
  default void onReset(P2pStream stream, Throwable cause) {}
}
