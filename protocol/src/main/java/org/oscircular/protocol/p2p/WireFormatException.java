package org.oscircular.protocol.p2p;

/**
 * Bytes or text received from a peer (or typed by a user) do not follow the libp2p format they claim.
 * The message names what was wrong in one line; callers close the connection or reject the input.
 */
public final class WireFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WireFormatException(String message) {
    super(message);
  }

  public WireFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
