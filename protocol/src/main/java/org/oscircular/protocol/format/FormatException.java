package org.oscircular.protocol.format;

import java.io.IOException;

/** Bytes that claim to be an archive document (table, catalog, key, block) but are not a valid one. */
public final class FormatException extends IOException {
  public FormatException(String message) {
    super(message);
  }

  public FormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
