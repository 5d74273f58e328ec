package org.oscircular.node.fetch;

import java.io.IOException;

/**
 * An origin could not hand over a file: it is missing, the origin is unreachable, or it answered
 * something that is not an archive file. The message is one line naming the origin and the path.
 */
public final class OriginException extends IOException {
  /** What went wrong, so callers can decide whether asking again (later, or another mirror) can help. */
  public enum Kind {
    /** The origin has no such file (HTTP 404/410, or no file in the directory). */
    NOT_FOUND(false),
    /** Cannot connect, timed out, or the connection broke off. */
    UNREACHABLE(true),
    /** HTTP 5xx. */
    SERVER_ERROR(true),
    /** An HTML page, a body larger than the file can be, or another unexpected status. */
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
