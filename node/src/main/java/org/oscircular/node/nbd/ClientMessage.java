package org.oscircular.node.nbd;

/** A complete message read from a client, before its meaning is checked. */
sealed interface ClientMessage {

  /** The 32-bit client flags that end the greeting. */
  record Flags(int flags) implements ClientMessage {}

  /** One option during option haggling: its code and raw data. */
  record Option(int code, byte[] data) implements ClientMessage {}

  /**
   * One transmission-phase request. {@code length} is unsigned (0 to 2^32-1). A write's payload
   * is consumed (discarded) by the decoder after this header; it is never buffered whole.
   */
  record Request(int flags, int type, long cookie, long offset, long length)
      implements ClientMessage {}
}
