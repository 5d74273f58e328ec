package org.oscircular.node.p2p;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.oscircular.node.net.SocketErrors;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;
import org.oscircular.protocol.p2p.X25519;

/**
 * A libp2p host on Netty: TCP, multistream-select, noise, yamux. The API the rest of the node builds
 * on (DHT, block exchange):
 *
 * <ul>
 *   <li>{@link #listen(Multiaddr)} binds a TCP listener ({@code /ip4/0.0.0.0/tcp/4001});
 *   <li>{@link #dial(Multiaddr)} connects and authenticates ({@code …/p2p/<id>} pins the peer id);
 *   <li>{@link #openStream(PeerId, String)} opens a stream for a protocol, reusing a connection or
 *       dialling an address from the {@link #peerStore()};
 *   <li>{@link #registerHandler(String, StreamHandler)} serves a protocol on inbound streams.
 * </ul>
 *
 * Every host serves identify ({@code /ipfs/id/1.0.0}) and ping ({@code /ipfs/ping/1.0.0}) and runs
 * identify on each new connection, filling the peer store. Thread-safe.
 */
public final class Host implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Host.class.getName());

  private final IdentityKey identity;
  private final HostConfig config;
  private final SecureRandom random;
  private final X25519 noiseStatic;
  private final EventLoopGroup group;
  private final Class<? extends ServerChannel> serverChannelType;
  private final Class<? extends SocketChannel> channelType;
  private final Map<String, StreamHandler> handlers = new ConcurrentHashMap<>();
  private final Map<PeerId, List<YamuxSession>> connections = new ConcurrentHashMap<>();
  private final Map<Connection, CompletableFuture<PeerStore.PeerInfo>> identified = new ConcurrentHashMap<>();
  private final List<Consumer<Connection>> connectionListeners = new CopyOnWriteArrayList<>();
  private final List<Channel> listeners = new CopyOnWriteArrayList<>();
  private final Object bindLock = new Object();
  private final List<Multiaddr> boundAddresses = new CopyOnWriteArrayList<>();
  private final AtomicInteger openChannels = new AtomicInteger();
  private final PeerStore peerStore = new PeerStore();
  private final Identify identify;

  public Host(IdentityKey identity, HostConfig config, SecureRandom random) {
    this.identity = identity;
    this.config = config;
    this.random = random;
    this.noiseStatic = X25519.generate(random);
    IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(), io);
    this.serverChannelType = Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.channelType = Epoll.isAvailable() ? EpollSocketChannel.class : NioSocketChannel.class;
    this.identify = new Identify(this);
    registerHandler(Identify.PROTOCOL_ID, identify::serve);
    registerHandler(Ping.PROTOCOL_ID, Ping::serve);
  }

  public PeerId peerId() {
    return identity.peerId();
  }

  public HostConfig config() {
    return config;
  }

  public PeerStore peerStore() {
    return peerStore;
  }

  IdentityKey identity() {
    return identity;
  }

  X25519 noiseStaticKey() {
    return noiseStatic;
  }

  SecureRandom random() {
    return random;
  }

  /** Serves {@code protocol} on inbound streams; replaces an earlier handler for it. */
  public void registerHandler(String protocol, StreamHandler handler) {
    handlers.put(protocol, handler);
  }

  public void unregisterHandler(String protocol) {
    handlers.remove(protocol);
  }

  boolean hasHandler(String protocol) {
    return handlers.containsKey(protocol);
  }

  StreamHandler handler(String protocol) {
    return handlers.get(protocol);
  }

  /** Protocols this host serves, as identify reports them. */
  public List<String> protocols() {
    List<String> p = new ArrayList<>(handlers.keySet());
    Collections.sort(p);
    return p;
  }

  /** Called (on an I/O thread) for every new connection, inbound or outbound, after the upgrade. */
  public void onConnection(Consumer<Connection> listener) {
    connectionListeners.add(listener);
  }

  /**
   * Binds a TCP listener, e.g. {@code /ip4/127.0.0.1/tcp/0} (port 0 picks a free port). Returns the
   * bound address.
   *
   * <p>A wildcard listener on Linux is one dual-stack socket bound to {@code [::]} (whether asked for
   * {@code 0.0.0.0} or {@code ::}; Netty and the JDK open it with IPV6_V6ONLY off, whatever
   * {@code net.ipv6.bindv6only} says), so it takes IPv4 and IPv6 alike. A wildcard address of either family
   * asking for the port of such a listener is therefore already served: it is not bound again (that would
   * fail as "address already in use"), and the existing listener's address is returned. This lets the
   * conventional pair {@code /ip4/0.0.0.0/tcp/4001, /ip6/::/tcp/4001} be configured, in either order.
   */
  public Multiaddr listen(Multiaddr address) throws IOException {
    Multiaddr.HostPort hp = address.tcpHostPort()
        .orElseThrow(() -> new IOException("can only listen on /ip4|ip6/…/tcp/… addresses, got " + address));
    InetAddress ip;
    try {
      ip = InetAddress.getByName(hp.host());
    } catch (IOException e) {
      throw new IOException("cannot listen on " + address + ": " + SocketErrors.reason(e), e);
    }
    synchronized (bindLock) {
      Optional<Multiaddr> serving = ip.isAnyLocalAddress() ? dualStackListener(hp.port()) : Optional.empty();
      if (serving.isPresent()) {
        LOG.log(Level.INFO, "libp2p host {0}: {1} is already served by the dual-stack listener on {2}, which takes"
            + " IPv4 and IPv6", peerId(), address, serving.get());
        return serving.get();
      }
      return bind(address, ip, hp.port());
    }
  }

  /** The address of a listener bound to the IPv6 wildcard on {@code port} (a dual-stack one), if any. */
  private Optional<Multiaddr> dualStackListener(int port) {
    if (port == 0) {
      return Optional.empty(); // "any free port": a second listener gets a port of its own
    }
    for (Channel l : listeners) {
      if (l.localAddress() instanceof InetSocketAddress a && a.getPort() == port
          && a.getAddress() instanceof Inet6Address && a.getAddress().isAnyLocalAddress()) {
        return Optional.of(ConnectionUpgrade.toMultiaddr(a));
      }
    }
    return Optional.empty();
  }

  /** The bound address of one of this host's listeners on {@code port}, if any. */
  private Optional<InetSocketAddress> listenerOn(int port) {
    for (Channel l : listeners) {
      if (port != 0 && l.localAddress() instanceof InetSocketAddress a && a.getPort() == port) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  private Multiaddr bind(Multiaddr address, InetAddress ip, int port) throws IOException {
    ServerBootstrap b = new ServerBootstrap()
        .group(group)
        .channel(serverChannelType)
        .option(ChannelOption.SO_BACKLOG, 256)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            accept(ch);
          }
        });
    Channel server;
    try {
      server = b.bind(ip, port).sync().channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + address, e);
    } catch (Exception e) {
      Optional<InetSocketAddress> own = listenerOn(port);
      if (own.isPresent()) { // our own listener is in the way, not another process
        boolean wildcard = ip.isAnyLocalAddress() || own.get().getAddress().isAnyLocalAddress();
        throw new IOException("cannot listen on " + address + ": this node already listens on "
            + ConnectionUpgrade.toMultiaddr(own.get()) + " ("
            + (wildcard ? "a wildcard listener takes the port on every address; list one or the other"
                : "the address is listed twice") + ")", e);
      }
      throw new IOException("cannot listen on " + address + ": " + SocketErrors.reason(e), e);
    }
    listeners.add(server);
    Multiaddr bound = ConnectionUpgrade.toMultiaddr((InetSocketAddress) server.localAddress());
    boundAddresses.add(bound);
    LOG.log(Level.INFO, "libp2p host {0} listening on {1}{2}", peerId(), bound,
        config.psk().map(k -> " in private network " + k.fingerprint()).orElse(""));
    return bound;
  }

  /** The bound listen addresses; a wildcard address is expanded to this machine's interface addresses. */
  public List<Multiaddr> listenAddresses() {
    List<Multiaddr> out = new ArrayList<>();
    for (Multiaddr a : boundAddresses) {
      out.addAll(expandWildcard(a));
    }
    return out;
  }

  /** {@code a} itself, or for a wildcard IP (0.0.0.0, ::) the same port on each up interface address. */
  public static List<Multiaddr> expandWildcard(Multiaddr a) {
    Multiaddr.HostPort hp = a.tcpHostPort().orElseThrow();
    InetAddress ip;
    try {
      ip = InetAddress.getByName(hp.host());
    } catch (IOException e) {
      return List.of(a);
    }
    if (!ip.isAnyLocalAddress()) {
      return List.of(a);
    }
    List<Multiaddr> out = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp()) {
          continue;
        }
        for (InetAddress addr : Collections.list(nif.getInetAddresses())) {
          // "::" is dual-stack (Netty's epoll reports a 0.0.0.0 bind as ::), so it also serves IPv4
          boolean sameFamily = (addr instanceof Inet4Address) == (ip instanceof Inet4Address)
              || !(ip instanceof Inet4Address);
          if (sameFamily && !addr.isLinkLocalAddress()) {
            out.add(Multiaddr.tcp(addr, hp.port()));
          }
        }
      }
    } catch (SocketException e) {
      return List.of(a);
    }
    return out;
  }

  private void accept(SocketChannel ch) {
    if (openChannels.get() >= config.maxConnections()) {
      LOG.log(Level.WARNING, "refusing connection from {0}: connection limit of {1} reached",
          ch.remoteAddress(), config.maxConnections());
      ch.close();
      return;
    }
    trackChannel(ch);
    CompletableFuture<YamuxSession> upgraded = new CompletableFuture<>();
    ConnectionUpgrade.install(ch, this, false, null, upgraded);
    upgraded.thenAccept(this::established);
  }

  private void trackChannel(Channel ch) {
    openChannels.incrementAndGet();
    ch.closeFuture().addListener(f -> openChannels.decrementAndGet());
  }

  /**
   * Dials {@code address} ({@code /ip4|ip6|dns*\/…/tcp/…}, optionally ending in {@code /p2p/<id>}, in
   * which case the peer must prove that identity). Completes with the upgraded connection.
   */
  public CompletableFuture<Connection> dial(Multiaddr address) {
    CompletableFuture<Connection> result = new CompletableFuture<>();
    Optional<Multiaddr.HostPort> hp = address.tcpHostPort();
    if (hp.isEmpty()) {
      result.completeExceptionally(new IOException("cannot dial " + address + ": only TCP addresses are supported"));
      return result;
    }
    if (openChannels.get() >= config.maxConnections()) {
      result.completeExceptionally(new IOException("connection limit of " + config.maxConnections() + " reached"));
      return result;
    }
    PeerId expected = address.peerId().orElse(null);
    if (identity.peerId().equals(expected)) {
      result.completeExceptionally(new IOException("refusing to dial ourselves at " + address));
      return result;
    }
    CompletableFuture<YamuxSession> upgraded = new CompletableFuture<>();
    Bootstrap b = new Bootstrap()
        .group(group)
        .channel(channelType)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.handshakeTimeout().toMillis())
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            trackChannel(ch);
            ConnectionUpgrade.install(ch, Host.this, true, expected, upgraded);
          }
        });
    b.connect(hp.get().host(), hp.get().port()).addListener(f -> {
      if (!f.isSuccess()) {
        upgraded.completeExceptionally(new IOException("cannot connect to " + address + ": "
            + SocketErrors.reason(f.cause()), f.cause()));
      }
    });
    upgraded.whenComplete((session, err) -> {
      if (err != null) {
        result.completeExceptionally(err);
      } else if (established(session)) {
        peerStore.addAddresses(session.remotePeer(), List.of(address));
        result.complete(session);
      } else {
        result.completeExceptionally(new IOException("connection limit per peer reached for " + session.remotePeer()));
      }
    });
    return result;
  }

  private boolean established(YamuxSession session) {
    PeerId peer = session.remotePeer();
    boolean[] admitted = {false};
    connections.compute(peer, (k, list) -> {
      List<YamuxSession> l = list == null ? new CopyOnWriteArrayList<>() : list;
      if (l.size() < config.maxConnectionsPerPeer()) {
        l.add(session);
        admitted[0] = true;
      }
      return l;
    });
    if (!admitted[0]) {
      LOG.log(Level.WARNING, "closing connection {0}: per-peer limit of {1} reached", session, config.maxConnectionsPerPeer());
      session.close();
      return false;
    }
    LOG.log(Level.DEBUG, "connected: {0}", session);
    session.closeFuture().whenComplete((v, t) -> {
      connections.computeIfPresent(peer, (k, l) -> {
        l.remove(session);
        return l.isEmpty() ? null : l;
      });
      identified.remove(session);
    });
    identified.put(session, identify.identify(session));
    for (Consumer<Connection> l : connectionListeners) {
      try {
        l.accept(session);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "connection listener failed: {0}", e.toString());
      }
    }
    return true;
  }

  /** Open connections to {@code peer}. */
  public List<Connection> connections(PeerId peer) {
    List<YamuxSession> l = connections.get(peer);
    return l == null ? List.of() : List.copyOf(l);
  }

  /** Peers with at least one open connection. */
  public Set<PeerId> connectedPeers() {
    return Set.copyOf(connections.keySet());
  }

  public int connectionCount() {
    return connections.values().stream().mapToInt(List::size).sum();
  }

  /** The identify result of a connection this host made or accepted (completes when identify ends). */
  public CompletableFuture<PeerStore.PeerInfo> identifyResult(Connection c) {
    CompletableFuture<PeerStore.PeerInfo> f = identified.get(c);
    return f != null ? f : CompletableFuture.failedFuture(new IOException("no identify for " + c));
  }

  /**
   * Opens a stream to {@code peer} for {@code protocol}, on an open connection if there is one,
   * otherwise dialling the peer's known addresses in turn.
   */
  public CompletableFuture<P2pStream> openStream(PeerId peer, String protocol) {
    for (Connection c : connections(peer)) {
      if (c.isOpen()) {
        return c.openStream(protocol);
      }
    }
    List<Multiaddr> addrs = peerStore.get(peer).map(PeerStore.PeerInfo::addresses).orElse(List.of());
    if (addrs.isEmpty()) {
      return CompletableFuture.failedFuture(new IOException("no known address for " + peer));
    }
    return dialAny(peer, addrs, 0).thenCompose(c -> c.openStream(protocol));
  }

  private CompletableFuture<Connection> dialAny(PeerId peer, List<Multiaddr> addrs, int i) {
    return dial(addrs.get(i).withPeerId(peer)).exceptionallyCompose(e ->
        i + 1 < addrs.size() ? dialAny(peer, addrs, i + 1) : CompletableFuture.failedFuture(e));
  }

  /** Closes all connections and listeners and stops the I/O threads. */
  @Override
  public void close() {
    for (Channel l : listeners) {
      l.close();
    }
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (List<YamuxSession> l : connections.values()) {
      for (YamuxSession s : l) {
        closing.add(s.close());
      }
    }
    try {
      CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.DEBUG, "connections did not close in time: {0}", e.toString());
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Override
  public String toString() {
    return "Host[" + peerId() + "]";
  }
}
