package org.oscircular.node.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * The one-line error for a server socket that could not be opened, shared by every listener (NBD, boot
 * HTTP, metrics, the static origin, libp2p). The JDK and Netty word the common cases differently
 * ({@code Address already in use} vs {@code bind(..) failed with error(-98): Address already in use}); the
 * user needs the address and what to do.
 */
public final class ListenFailure {
  private ListenFailure() {}

  /** {@code what}: e.g. "NBD", "HTTP"; the result reads "cannot listen for NBD on 127.0.0.1:10809: …". */
  public static IOException of(String what, InetSocketAddress address, Throwable cause) {
    return new IOException("cannot listen for " + what + " on " + hostPort(address) + ": " + reason(cause), cause);
  }

  /** What went wrong, in words that say what to do. */
  public static String reason(Throwable cause) {
    String msg = String.valueOf(cause.getMessage());
    String lower = msg.toLowerCase(Locale.ROOT);
    if (lower.contains("address already in use")) {
      return "address already in use (another process listens there; stop it or choose another port)";
    }
    if (lower.contains("cannot assign requested address")) {
      return "this machine has no such address";
    }
    if (lower.contains("permission denied")) {
      return "permission denied (ports below 1024 need root)";
    }
    return msg;
  }

  static String hostPort(InetSocketAddress a) {
    String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
