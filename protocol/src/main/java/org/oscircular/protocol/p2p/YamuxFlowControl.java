package org.oscircular.protocol.p2p;

/**
 * Per-stream yamux flow-control state (yamux/README.md "Flow Control"), sans I/O. Each direction starts
 * with a 256 KiB window; only DATA payload counts. The receiver returns credit with WINDOW_UPDATE once
 * the application has consumed at least half of its target window, as go and js do.
 */
public final class YamuxFlowControl {
  /** The window every stream starts with, in each direction. */
  public static final int INITIAL_WINDOW = 256 * 1024;

  private final int targetReceiveWindow;
  private long sendWindow = INITIAL_WINDOW;
  private long receiveWindow = INITIAL_WINDOW;
  private long consumedUnacknowledged;

  /**
   * @param targetReceiveWindow the receive window this side grants (at least 256 KiB); anything above
   *     the initial window is granted by {@link #initialWindowGrant()} when the stream opens
   */
  public YamuxFlowControl(int targetReceiveWindow) {
    if (targetReceiveWindow < INITIAL_WINDOW) {
      throw new IllegalArgumentException("yamux receive window must be at least 256 KiB");
    }
    this.targetReceiveWindow = targetReceiveWindow;
  }

  /** The delta to send with the SYN or ACK that opens the stream (0 if the target is the default). */
  public int initialWindowGrant() {
    int delta = targetReceiveWindow - INITIAL_WINDOW;
    receiveWindow += delta;
    return delta;
  }

  /** Bytes this side may still send before the peer returns credit. */
  public long sendWindow() {
    return sendWindow;
  }

  public long receiveWindow() {
    return receiveWindow;
  }

  /** Records {@code n} bytes sent; the caller must not exceed {@link #sendWindow()}. */
  public void onSent(int n) {
    if (n > sendWindow) {
      throw new IllegalStateException("sending " + n + " bytes with a window of " + sendWindow);
    }
    sendWindow -= n;
  }

  /**
   * Applies a WINDOW_UPDATE delta from the peer. Returns false if the window would exceed 2^32 - 1, a
   * protocol violation.
   */
  public boolean onWindowUpdate(long delta) {
    sendWindow += delta;
    return sendWindow <= 0xFFFF_FFFFL;
  }

  /**
   * Records {@code n} DATA bytes received. Returns false if they exceed the receive window: the peer
   * violated flow control and the session must be closed.
   */
  public boolean onReceived(long n) {
    if (n > receiveWindow) {
      return false;
    }
    receiveWindow -= n;
    return true;
  }

  /**
   * Records that the application consumed {@code n} received bytes. Returns the WINDOW_UPDATE delta to
   * send now, or 0 to wait for more consumption.
   */
  public int onConsumed(int n) {
    consumedUnacknowledged += n;
    if (consumedUnacknowledged >= targetReceiveWindow / 2) {
      int delta = (int) consumedUnacknowledged;
      consumedUnacknowledged = 0;
      receiveWindow += delta;
      return delta;
    }
    return 0;
  }
}
