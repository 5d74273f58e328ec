package org.oscircular.node.p2p;

import java.util.concurrent.CompletableFuture;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/** A secured (noise), multiplexed (yamux) connection to an authenticated peer. Thread-safe. */
public interface Connection {
  /** Which side opened the TCP connection. */
  enum Direction {
    INBOUND,
    OUTBOUND
  }

  PeerId remotePeer();

  /** The peer's transport address ({@code /ip4/…/tcp/…}). */
  Multiaddr remoteAddress();

  Direction direction();

  /** Opens a stream and negotiates {@code protocol} on it; fails if the peer does not support it. */
  CompletableFuture<P2pStream> openStream(String protocol);

  /** Number of streams currently open on this connection. */
  int streamCount();

  boolean isOpen();

  /** Closes the connection (GO_AWAY, then TCP close). */
  CompletableFuture<Void> close();

  CompletableFuture<Void> closeFuture();
}
