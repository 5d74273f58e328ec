package org.oscircular.node.nbd;

/** The peer broke the protocol; the server drops that connection (and only that one). */
final class NbdProtocolException extends Exception {
  NbdProtocolException(String message) {
    super(message);
  }
}
