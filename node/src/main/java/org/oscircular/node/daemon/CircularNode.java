package org.oscircular.node.daemon;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.BlockSource;
import org.oscircular.node.archive.CatalogPoller;
import org.oscircular.node.archive.ImagePinner;
import org.oscircular.node.boot.BootHttpServer;
import org.oscircular.node.boot.BootImages;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.config.NodeConfig;
import org.oscircular.node.discovery.MdnsDiscovery;
import org.oscircular.node.exchange.BlockProvider;
import org.oscircular.node.exchange.PeerExchange;
import org.oscircular.node.exchange.PeerExchanges;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.fuse.ArchiveMount;
import org.oscircular.node.kad.CacheAnnouncer;
import org.oscircular.node.kad.DhtNode;
import org.oscircular.node.metrics.MetricsServer;
import org.oscircular.node.nbd.ArchiveExports;
import org.oscircular.node.nbd.NbdExport;
import org.oscircular.node.nbd.NbdServer;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.HostConfig;
import org.oscircular.node.p2p.IdentityFile;
import org.oscircular.node.p2p.SwarmKeyFile;
import org.oscircular.protocol.blocks.BlockMessage;
import org.oscircular.protocol.exchange.ExchangeConfig;
import org.oscircular.protocol.exchange.OriginMode;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.TrustedKeys;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.p2p.Multiaddr;

/**
 * One OS Circular node: the block cache, the libp2p host, block exchange with peers (origins as
 * fallback), and the front ends the configuration enables (NBD exports, network boot, FUSE, metrics). A seed also pins every live
 * image version so it can serve a lab without waiting for the origin.
 */
public final class CircularNode implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CircularNode.class.getName());

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, Thread.ofPlatform()
      .daemon().name("circular-node-", 0).factory());
  private Host host;
  private DhtNode dht;
  private ArchiveBlockProvider provider;
  /** The NBD exports, replaced when a catalog refresh brings new versions. */
  private final AtomicReference<List<NbdExport>> nbdExports =
      new AtomicReference<>(List.of());
  private Archive archive;
  private PeerExchange exchange;
  private MetricsServer metrics;
  private ArchiveMount mount;

  private CircularNode() {}

  /** Starts a node as {@code config} says; on failure everything started so far is stopped again. */
  public static CircularNode start(NodeConfig config) throws Exception {
    return start(config, UnaryOperator.identity());
  }

  /**
   * As {@link #start(NodeConfig)}, with peers served through {@code servedToPeers} applied to the node's own
   * provider: the seam through which tests run a node that misbehaves towards its peers.
   */
  static CircularNode start(NodeConfig config, UnaryOperator<BlockProvider> servedToPeers) throws Exception {
    var node = new CircularNode();
    try {
      node.startAll(config, servedToPeers);
      return node;
    } catch (Exception | Error e) {
      node.close();
      throw e;
    }
  }

  private void startAll(NodeConfig config, UnaryOperator<BlockProvider> servedToPeers) throws Exception {
    Path dataDir = Path.of(config.string("node.data-dir"));
    Files.createDirectories(dataDir);
    boolean seed = config.string("node.role").equals("seed");
    PrometheusMeterRegistry registry = MetricsServer.newRegistry();

    // Identity and libp2p host.
    var random = new SecureRandom();
    var identity = IdentityFile.loadOrCreate(dataDir, random);
    var hostConfig = HostConfig.defaults()
        .withLimits(config.integer("p2p.max-connections", 1, 100_000),
            config.integer("p2p.max-connections-per-peer", 1, 100_000),
            config.integer("p2p.max-streams-per-connection", 1, 100_000))
        .withIdleTimeout(config.duration("p2p.idle-timeout"));
    if (!config.string("p2p.psk-file").isBlank()) {
      hostConfig = hostConfig.withPsk(SwarmKeyFile.read(Path.of(config.string("p2p.psk-file"))));
    }
    host = new Host(identity, hostConfig, random);
    resources.add(host);

    // Cache, origins and the archive, with peers before origins for missing blocks.
    RocksBlockStore store = RocksBlockStore.open(dataDir.resolve("cache"), CacheConfig.from(config));
    resources.add(store);
    FetchConfig fetch = FetchConfig.from(config);
    List<Origin> origins = new ArrayList<>();
    for (String o : config.list("origins")) {
      origins.add(Origin.parse(o, fetch.connections(), fetch.timeout()));
    }
    origins.forEach(o -> resources.add(o));
    if (origins.isEmpty()) {
      throw new NodeConfig.ConfigException("origins must list at least one origin (the catalog comes from there)");
    }
    Path trustFile = Path.of(config.string("trust.file"));
    if (!Files.exists(trustFile)) {
      throw new NodeConfig.ConfigException("trust.file " + trustFile + " does not exist (install the publisher's"
          + " .pub there, see docs/operations.md, or point trust.file at it)");
    }
    TrustedKeys trust = TrustedKeys.parse(Files.readString(trustFile), "trust file " + trustFile);
    var exchangeConfig = exchangeConfig(config);
    ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("circular-exchange").factory());
    resources.add(loop::shutdownNow);
    boolean sharing = config.bool("exchange.enabled");
    archive = Archive.open(origins, store, trust, fetch, InstantSource.system(), Sleeper.SYSTEM, background,
        fetcher -> {
          if (!sharing) {
            return BlockSource.origins(fetcher);
          }
          exchange = PeerExchanges.create(host, exchangeConfig, seed, new SplittableRandom(random.nextLong()), fetcher,
              background, loop, System::nanoTime, registry);
          return exchange;
        });
    if (sharing) {
      resources.add(exchange);
      // Serving peers.
      provider = new ArchiveBlockProvider(archive, name -> seed || exchange.isDesignated(name));
      provider.refreshIndex();
      BlockProvider served = servedToPeers.apply(provider);
      PeerExchanges.serve(host, served, background, config.integer("exchange.max-uploads", 1, 100_000),
          config.size("exchange.upload-bandwidth"), seed ? BlockMessage.Role.SEED : BlockMessage.Role.CLIENT,
          registry, timers);
    }
    Set<Multiaddr> listening = new HashSet<>();
    for (String listen : config.list("p2p.listen")) {
      Multiaddr bound = host.listen(Multiaddr.parse(listen));
      if (listening.add(bound)) { // a wildcard pair on one port shares one dual-stack listener: log it once
        LOG.log(Level.INFO, "listening on {0}/p2p/{1}", bound, host.peerId());
      }
    }
    startDht(config, random);
    if (config.bool("kad.announce-cached")) {
      // every node, client or seed, tells the DHT which blocks it holds; a seed's pinned versions included
      var announcer = new CacheAnnouncer(dht, store::cachedNames, timers, System::currentTimeMillis,
          config.duration("kad.announce-delay").toMillis(), KadConfig.DEFAULTS.republishMillis());
      store.onStored(announcer::stored);
      resources.add(announcer);
      announcer.start();
    }
    if (config.bool("mdns.enabled")) {
      var mdns = new MdnsDiscovery(host, config.duration("mdns.interval"), timers,
          new SplittableRandom(random.nextLong()));
      resources.add(mdns);
      try {
        mdns.start();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "mdns: disabled, {0}", e.getMessage());
      }
    }
    List<Multiaddr> peers = new ArrayList<>();
    for (String p : config.list("p2p.peers")) {
      peers.add(Multiaddr.parse(p));
    }
    if (!peers.isEmpty()) {
      timers.scheduleWithFixedDelay(() -> dialMissing(peers), 0, 2, TimeUnit.SECONDS);
    }

    // Front ends.
    String metricsListen = config.string("metrics.listen");
    if (!metricsListen.isBlank()) {
      metrics = MetricsServer.start(registry, hostPort(metricsListen));
      resources.add(metrics);
    }
    String nbdListen = config.string("nbd.listen");
    int nbdPort = 0;
    if (!nbdListen.isBlank()) {
      ExecutorService reads = Executors.newFixedThreadPool(8,
          Thread.ofPlatform().daemon().name("nbd-read-", 0).factory());
      resources.add(reads::shutdownNow);
      nbdExports.set(new ArchiveExports(archive).list());
      NbdServer nbd = NbdServer.start(hostPort(nbdListen), nbdExports::get, reads, 2);
      resources.add(nbd);
      nbdPort = nbd.address().getPort();
      LOG.log(Level.INFO, "NBD exports on {0}", nbd.address());
    }
    String bootListen = config.string("boot.listen");
    if (!bootListen.isBlank()) {
      if (nbdPort == 0) {
        throw new NodeConfig.ConfigException("boot.listen needs nbd.listen: booted machines take their root disk over NBD");
      }
      var boot = BootHttpServer.start(hostPort(bootListen), new BootImages(archive), nbdPort, background);
      resources.add(boot);
      LOG.log(Level.INFO, "boot menu at http://{0}/boot/menu.ipxe", bootListen);
    }
    String mountPoint = config.string("fuse.mountpoint");
    if (!mountPoint.isBlank()) {
      mount = ArchiveMount.mount(archive, Path.of(mountPoint), background, InstantSource.system(), Sleeper.SYSTEM);
      resources.add(mount);
    }
    if (seed) {
      background.execute(this::preheat);
    }
    CatalogPoller.start(archive, config.duration("catalog.refresh-interval"), timers, () -> catalogChanged(seed));
    int n = archive.versions().size();
    LOG.log(Level.INFO, "node {0} up as {1}: {2} image version{3}, catalog from {4}", host.peerId(),
        seed ? "seed" : "client", n, n == 1 ? "" : "s", archive.catalogSource());
  }

  /** The kad DHT on the host: server or client mode (kad.mode), joined through kad.bootstrap peers. */
  private void startDht(NodeConfig config, SecureRandom random) {
    ScheduledExecutorService dhtLoop = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("circular-dht").factory());
    resources.add(dhtLoop::shutdownNow);
    dht = new DhtNode(host, KadConfig.DEFAULTS, config.string("kad.mode").equals("server"), dhtLoop,
        System::currentTimeMillis, new SplittableRandom(random.nextLong()));
    dht.start();
    resources.add(dht);
    List<Multiaddr> bootstrap = config.list("kad.bootstrap").stream().map(Multiaddr::parse).toList();
    if (!bootstrap.isEmpty()) {
      dht.bootstrap(bootstrap).whenComplete((r, e) -> LOG.log(e == null ? Level.INFO : Level.WARNING,
          e == null ? "dht: joined, " + r.closest().size() + " peers near us" : "dht: bootstrap failed: " + e));
    }
  }

  /** The exchange policy's knobs from the exchange.* keys; the rest keep the policy's defaults. */
  static ExchangeConfig exchangeConfig(NodeConfig c) throws NodeConfig.ConfigException {
    ExchangeConfig d = ExchangeConfig.defaults();
    var fetching = c.duration("exchange.fetching-interval");
    var timeout = c.duration("exchange.request-timeout");
    if (fetching.toMillis() < 100 || fetching.toMinutes() > 10 || fetching.compareTo(timeout) >= 0) {
      throw new NodeConfig.ConfigException("exchange.fetching-interval must be within 100ms..10m and below "
          + "exchange.request-timeout (" + timeout.toMillis() + "ms), got " + fetching.toMillis() + "ms");
    }
    return new ExchangeConfig(
        c.integer("exchange.peer-requests-per-peer", 1, 100_000),
        c.integer("exchange.peer-requests", 1, 100_000),
        c.integer("exchange.origin-requests", 1, 100_000),
        c.string("exchange.origin-mode").equals("never") ? OriginMode.NEVER : OriginMode.FALLBACK,
        c.duration("exchange.request-timeout").toNanos(),
        c.duration("exchange.origin-hedge-delay").toNanos(),
        d.timeoutsBeforeDrop(),
        c.integer("exchange.bad-blocks-before-ban", 1, 1000),
        c.duration("exchange.ban-duration").toNanos(),
        d.maxLookups(),
        d.lookupRetryDelay(),
        d.maxOriginAttempts(),
        d.maxPeerRecords(),
        c.duration("exchange.fetching-interval").toNanos(),
        c.duration("exchange.max-fetching-wait").toNanos());
  }

  private final Set<Multiaddr> dialing = ConcurrentHashMap.newKeySet();

  /**
   * Keeps the configured static peers connected. Of each pair only the node with the smaller peer id
   * dials, and never twice at once, so two nodes never race to open duplicate connections.
   */
  private void dialMissing(List<Multiaddr> peers) {
    for (Multiaddr a : peers) {
      var id = a.peerId();
      if (id.isEmpty() || id.get().equals(host.peerId()) || !host.connections(id.get()).isEmpty()
          || id.get().compareTo(host.peerId()) < 0 || !dialing.add(a)) {
        continue;
      }
      host.dial(a).whenComplete((c, e) -> {
        dialing.remove(a);
        if (e != null) {
          LOG.log(Level.DEBUG, "dial {0} failed: {1}", a, e.getMessage());
        }
      });
    }
  }

  /** A seed pins every live version, so it serves a lab from its own cache. */
  /**
   * After the poller took a newer catalog: new versions are served to peers at once and, on a seed,
   * pinned and announced (the seed preheats them before lab machines ask), exported over NBD and listed
   * in the FUSE tree.
   */
  private void catalogChanged(boolean seed) {
    nbdExports.set(new ArchiveExports(archive).list());
    if (mount != null) {
      mount.catalogChanged();
    }
    if (provider != null) {
      provider.refreshIndex();
    }
    if (seed) {
      preheat();
    }
  }

  private final Set<String> preheated = ConcurrentHashMap.newKeySet();

  private synchronized void preheat() {
    for (Catalog.Entry e : archive.versions()) {
      if (e.retired() || preheated.contains(e.id())) {
        continue;
      }
      try {
        ImagePinner.pin(archive, e, background, p -> { });
        preheated.add(e.id());
        LOG.log(Level.INFO, "seed: {0} pinned", e.id()); // its blocks are announced as they are cached
      } catch (Exception ex) {
        LOG.log(Level.WARNING, "seed: pinning {0} failed: {1}", e.id(), ex.getMessage());
      }
    }
  }

  static InetSocketAddress hostPort(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("expected host:port, got '" + s + "'");
    }
    return new InetSocketAddress(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
  }

  public Host host() {
    return host;
  }

  public DhtNode dht() {
    return dht;
  }

  public Archive archive() {
    return archive;
  }

  public MetricsServer metrics() {
    return metrics;
  }

  @Override
  public void close() {
    timers.shutdownNow();
    for (AutoCloseable r : resources.reversed()) {
      try {
        r.close();
      } catch (Exception e) {
        LOG.log(Level.WARNING, "stopping {0}: {1}", r, e.getMessage());
      }
    }
    background.shutdownNow();
  }
}
