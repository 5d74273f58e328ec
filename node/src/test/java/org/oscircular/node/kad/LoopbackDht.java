package org.oscircular.node.kad;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.HostConfig;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/**
 * DHT nodes on real libp2p hosts listening on loopback, in this JVM, each with its own single-thread executor and
 * the wall clock. Node {@code i} is the {@code i}-th started; {@link #close()} stops every node, host and executor.
 */
public final class LoopbackDht implements AutoCloseable {
  private final SecureRandom random;
  private final List<DhtNode> nodes = new ArrayList<>();
  private final List<Host> nodeHosts = new ArrayList<>();
  private final List<Host> otherHosts = new ArrayList<>();
  private final List<ScheduledExecutorService> executors = new ArrayList<>();

  public LoopbackDht(SecureRandom random) {
    this.random = random;
  }

  /** Starts a node on a new host listening on 127.0.0.1 (any port); {@code server} as in {@link DhtNode}. */
  public DhtNode start(KadConfig config, boolean server) throws Exception {
    Host host = host(random);
    nodeHosts.add(host);
    host.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    executors.add(executor);
    DhtNode node = new DhtNode(host, config, server, executor, System::currentTimeMillis,
        new SplittableRandom(random.nextLong()));
    node.start();
    nodes.add(node);
    return node;
  }

  /** A host that runs no DHT node and does not listen (to dial with), closed with the rest. */
  public Host clientHost() {
    Host host = host(random);
    otherHosts.add(host);
    return host;
  }

  private static Host host(SecureRandom random) {
    return new Host(IdentityKey.generate(random), HostConfig.defaults().withIoThreads(1), random);
  }

  public int size() {
    return nodes.size();
  }

  public DhtNode node(int i) {
    return nodes.get(i);
  }

  public List<DhtNode> nodes() {
    return List.copyOf(nodes);
  }

  public Host host(int i) {
    return nodeHosts.get(i);
  }

  public PeerId id(int i) {
    return nodeHosts.get(i).peerId();
  }

  /** Node {@code i}'s first listen address with its peer id, as a bootstrap address. */
  public Multiaddr address(int i) {
    Host h = nodeHosts.get(i);
    return h.listenAddresses().getFirst().withPeerId(h.peerId());
  }

  /** A random sha1 block key. */
  public BlockKey randomBlock() {
    byte[] sha1 = new byte[20];
    random.nextBytes(sha1);
    return new BlockKey(sha1);
  }

  @Override
  public void close() {
    nodes.forEach(DhtNode::close);
    nodeHosts.forEach(Host::close);
    otherHosts.forEach(Host::close);
    executors.forEach(ScheduledExecutorService::shutdownNow);
  }
}
