package org.oscircular.node.origin;

import java.io.IOException;

/** An origin could not hand over a file: it is missing, the origin is unreachable, or it answered nonsense. */
public final class OriginException extends IOException {
  /** What went wrong, so callers can decide whether a retry can help. */
  public enum Kind {
    NOT_FOUND(false),
    UNREACHABLE(true),
    SERVER_ERROR(true),
    NOT_AN_ARCHIVE(false);

    private final boolean retryable;

    Kind(boolean retryable) {
      this.retryable = retryable;
    }

    public boolean retryable() {
      return retryable;
    }
  }

  private final Kind kind;

  public OriginException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public OriginException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
