package org.oscircular.node.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One-line wording of socket errors, shared by every listener (NBD, boot HTTP, metrics, the static origin,
 * libp2p) and by libp2p dials. The JDK and Netty word the same failure differently ({@code Address already in
 * use} vs {@code bind(..) failed with error(-98): Address already in use}); the user needs the address and
 * what to do, not the system call.
 */
public final class SocketErrors {
  /** Netty's native transport: "finishConnect(..) failed with error(-111): ". */
  private static final Pattern NATIVE_PREFIX = Pattern.compile("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");
  /** …and the ": /127.0.0.1:4001" it appends to connect errors (the caller names the address already). */
  private static final Pattern ADDRESS_SUFFIX = Pattern.compile(": [\\w.-]*/[0-9a-fA-F.:\\[\\]%]+$");

  private SocketErrors() {}

  /** {@code what}: e.g. "NBD", "HTTP"; the result reads "cannot listen for NBD on 127.0.0.1:10809: …". */
  public static IOException listenFailure(String what, InetSocketAddress address, Throwable cause) {
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
    if (lower.contains("connection refused")) {
      return "connection refused (nothing listens there)";
    }
    return ADDRESS_SUFFIX.matcher(NATIVE_PREFIX.matcher(msg).replaceFirst("")).replaceFirst("");
  }

  static String hostPort(InetSocketAddress a) {
    String host = a.getHostString(); // as given (a literal stays as typed), no reverse lookup
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
