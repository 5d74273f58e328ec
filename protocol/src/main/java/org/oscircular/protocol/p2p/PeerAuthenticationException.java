package org.oscircular.protocol.p2p;

/** A peer failed to prove its identity: a bad handshake signature or not the peer that was dialled. */
public final class PeerAuthenticationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PeerAuthenticationException(String message) {
    super(message);
  }
}
