package org.oscircular.node.p2p;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.oscircular.protocol.p2p.PreSharedKey;

/**
 * Settings of a {@link Host}. {@link #defaults()} documents every default.
 *
 * @param maxConnections total open connections (inbound and outbound); inbound ones above are refused
 * @param maxConnectionsPerPeer connections to one peer; extra ones are closed after the handshake
 * @param maxStreamsPerConnection open streams per connection; extra inbound streams are reset
 * @param idleTimeout a connection with no open stream for this long is closed
 * @param handshakeTimeout time for TCP + multistream + noise + yamux negotiation
 * @param yamuxReceiveWindow per-stream receive window granted to peers (≥ 256 KiB)
 * @param agentVersion sent in identify
 * @param ioThreads event-loop threads (0 = Netty's default, twice the cores)
 * @param psk the pre-shared key of a private network (libp2p pnet): only peers with the same key can
 *     connect; empty for the public network
 */
public record HostConfig(
    int maxConnections,
    int maxConnectionsPerPeer,
    int maxStreamsPerConnection,
    Duration idleTimeout,
    Duration handshakeTimeout,
    int yamuxReceiveWindow,
    String agentVersion,
    int ioThreads,
    Optional<PreSharedKey> psk) {

  /** A public-network configuration (no pre-shared key). */
  public HostConfig(int maxConnections, int maxConnectionsPerPeer, int maxStreamsPerConnection, Duration idleTimeout,
      Duration handshakeTimeout, int yamuxReceiveWindow, String agentVersion, int ioThreads) {
    this(maxConnections, maxConnectionsPerPeer, maxStreamsPerConnection, idleTimeout, handshakeTimeout,
        yamuxReceiveWindow, agentVersion, ioThreads, Optional.empty());
  }

  public HostConfig {
    Objects.requireNonNull(psk, "psk");
    if (maxConnections < 1 || maxConnectionsPerPeer < 1 || maxStreamsPerConnection < 1) {
      throw new IllegalArgumentException("p2p connection and stream limits must be at least 1");
    }
    if (yamuxReceiveWindow < 256 * 1024) {
      throw new IllegalArgumentException(
          "p2p.yamux-receive-window must be at least 256 KiB, got " + yamuxReceiveWindow);
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero() || handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
      throw new IllegalArgumentException("p2p timeouts must be positive");
    }
  }

  /**
   * 512 connections, 4 per peer, 1024 streams per connection, 5 min idle timeout, 15 s handshake
   * timeout, 1 MiB stream window, agent "circular/0.1.0", Netty's default thread count.
   */
  public static HostConfig defaults() {
    return new HostConfig(512, 4, 1024, Duration.ofMinutes(5), Duration.ofSeconds(15), 1 << 20, "circular/0.1.0", 0);
  }

  public HostConfig withIoThreads(int n) {
    return new HostConfig(maxConnections, maxConnectionsPerPeer, maxStreamsPerConnection, idleTimeout,
        handshakeTimeout, yamuxReceiveWindow, agentVersion, n, psk);
  }

  public HostConfig withLimits(int connections, int perPeer, int streams) {
    return new HostConfig(connections, perPeer, streams, idleTimeout, handshakeTimeout, yamuxReceiveWindow,
        agentVersion, ioThreads, psk);
  }

  public HostConfig withIdleTimeout(Duration idle) {
    return new HostConfig(maxConnections, maxConnectionsPerPeer, maxStreamsPerConnection, idle, handshakeTimeout,
        yamuxReceiveWindow, agentVersion, ioThreads, psk);
  }

  public HostConfig withHandshakeTimeout(Duration t) {
    return new HostConfig(maxConnections, maxConnectionsPerPeer, maxStreamsPerConnection, idleTimeout, t,
        yamuxReceiveWindow, agentVersion, ioThreads, psk);
  }

  /** Joins the private network of {@code key} (null: the public network). */
  public HostConfig withPsk(PreSharedKey key) {
    return new HostConfig(maxConnections, maxConnectionsPerPeer, maxStreamsPerConnection, idleTimeout,
        handshakeTimeout, yamuxReceiveWindow, agentVersion, ioThreads, Optional.ofNullable(key));
  }
}
