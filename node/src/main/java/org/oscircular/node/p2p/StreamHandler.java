package org.oscircular.node.p2p;

/**
 * Serves one protocol: called for each inbound stream the peer opened for it, on the connection's I/O
 * thread, right after negotiation. Install a listener on the stream before returning.
 */
@FunctionalInterface
public interface StreamHandler {
  void onStream(P2pStream stream);
}
