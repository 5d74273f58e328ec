package org.oscircular.node.exchange;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.oscircular.node.archive.BlockSource;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.p2p.Connection;
import org.oscircular.node.p2p.Host;
import org.oscircular.protocol.blocks.BlockMessage;
import org.oscircular.protocol.exchange.BlockExchange;
import org.oscircular.protocol.exchange.ExchangeAction;
import org.oscircular.protocol.exchange.ExchangeConfig;
import org.oscircular.protocol.exchange.ExchangeEvent;
import org.oscircular.protocol.exchange.Provider;
import org.oscircular.protocol.exchange.Rendezvous;
import org.oscircular.protocol.exchange.SourceTier;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.BlockVerifier;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/**
 * Drives the sans-I/O {@link BlockExchange} policy with real peers and origins: a block this node misses
 * is asked from LAN peers and seeds over {@code /circular/blocks/1.0.0}, the HTTP origins being the
 * fallback. All policy state lives on one single-threaded {@code loop}; peer answers and origin fetches
 * complete on other threads and are posted back to it. Every block is verified against its signed
 * table entry before the policy hears it arrived, so nothing unverified is ever delivered.
 *
 * <p>Which LAN peer to ask first is decided by {@link Rendezvous} hashing over the LAN peers and this
 * node: the designated peer fetches a block it lacks from the origin and serves it, so a lab's origin
 * egress stays near one copy of the image however many machines boot.
 */
public final class PeerExchange implements BlockSource, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(PeerExchange.class.getName());
  /** How long a have-query to a LAN peer or seed may take before its answer is ignored. */
  static final long HAVE_QUERY_TIMEOUT_MS = 500;

  private final Host host;
  private final BlockExchange policy;
  private final BlockFetcher origins;
  private final Executor originPool;
  private final ScheduledExecutorService loop;
  private final LongSupplier nanoTime;
  private final ExchangeMetrics metrics;
  private final LanClassifier lan;
  /** A seed fetches from other seeds or the origin, never through clients. */
  private final boolean seedRole;
  /** How often peers loading a block for us should say so (asked for in our Hello). */
  private final long fetchingIntervalMillis;

  // Loop-thread state.
  private final Map<Integer, Pending> pending = new HashMap<>();
  private final Map<BlockName, Integer> ids = new HashMap<>();
  private int nextId;
  private final Map<Long, PeerState> peersByHandle = new HashMap<>();
  private final Map<PeerId, PeerState> peers = new HashMap<>();
  private final Set<PeerId> banned = new HashSet<>();
  /** Handles stay with a peer across reconnects, so the policy's score of it survives them. */
  private final Map<PeerId, Long> handles = new HashMap<>();
  private long nextHandle = 1;
  private ScheduledFuture<?> tick;
  private long tickAt = Long.MAX_VALUE;

  /** Peers known to serve blocks; read from other threads for {@link #isDesignated}. */
  private final Set<PeerId> lanPeers = ConcurrentHashMap.newKeySet();

  private static final class Pending {
    final BlockEntry.Stored entry;
    final CompletableFuture<Fetched> future = new CompletableFuture<>();
    byte[] data;
    String source;
    int lookups;

    Pending(BlockEntry.Stored entry) {
      this.entry = entry;
    }
  }

  private static final class PeerState {
    final PeerId id;
    final long handle;
    final boolean onLan;
    CompletableFuture<PeerLink> link;
    boolean seed;

    PeerState(PeerId id, long handle, boolean onLan) {
      this.id = id;
      this.handle = handle;
      this.onLan = onLan;
    }

    SourceTier tier() {
      return seed ? SourceTier.SEED : onLan ? SourceTier.LAN : SourceTier.REMOTE;
    }

    String label() {
      return seed ? "seed" : onLan ? "lan" : "remote";
    }
  }

  /**
   * @param origins the HTTP origins, or null when the node has none (peers only)
   * @param originPool runs blocking origin fetches; its size bounds nothing (the policy caps origin requests)
   */
  PeerExchange(Host host, ExchangeConfig config, boolean seed, RandomGenerator random, BlockFetcher origins,
      Executor originPool, ScheduledExecutorService loop, LongSupplier nanoTime, ExchangeMetrics metrics) {
    this.host = host;
    this.seedRole = seed;
    this.policy = new BlockExchange(config, random);
    this.fetchingIntervalMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(config.fetchingInterval()));
    this.origins = origins;
    this.originPool = originPool;
    this.loop = loop;
    this.nanoTime = nanoTime;
    this.metrics = metrics;
    this.lan = LanClassifier.ofLocalInterfaces();
    host.onConnection(this::onConnection);
  }

  // ---- discovery of peers that speak the block protocol ----

  private void onConnection(Connection c) {
    host.identifyResult(c).whenComplete((info, err) -> {
      if (err != null || info == null || !info.supports(BlockService.PROTOCOL)) {
        return;
      }
      boolean onLan = isLan(c.remoteAddress());
      loop.execute(() -> addPeer(c.remotePeer(), onLan));
      c.closeFuture().whenComplete((v, e) -> loop.execute(() -> {
        if (host.connections(c.remotePeer()).isEmpty()) {
          removePeer(c.remotePeer());
        }
      }));
    });
  }

  private boolean isLan(Multiaddr address) {
    var first = address.components().isEmpty() ? null : address.components().getFirst();
    if (first == null || (first.protocol() != Multiaddr.Protocol.IP4 && first.protocol() != Multiaddr.Protocol.IP6)) {
      return false;
    }
    try {
      return lan.isLan(InetAddress.getByAddress(first.value()));
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private void addPeer(PeerId id, boolean onLan) {
    if (banned.contains(id)) {
      LOG.log(Level.INFO, "refusing banned peer {0}", id);
      host.connections(id).forEach(Connection::close);
      return;
    }
    if (peers.containsKey(id)) {
      return;
    }
    var st = new PeerState(id, handles.computeIfAbsent(id, k -> nextHandle++), onLan);
    peers.put(id, st);
    peersByHandle.put(st.handle, st);
    if (onLan) {
      lanPeers.add(id);
    }
    // Open the link now to learn the peer's role (seed or client) from its hello.
    link(st);
    updatePeerGauges();
    LOG.log(Level.INFO, "block peer {0} joined ({1})", id, st.label());
  }

  private void removePeer(PeerId id) {
    PeerState st = peers.remove(id);
    if (st == null) {
      return;
    }
    peersByHandle.remove(st.handle);
    lanPeers.remove(id);
    updatePeerGauges();
    if (st.link != null) {
      st.link.thenAccept(PeerLink::close);
    }
    post(new ExchangeEvent.PeerDisconnected(st.handle));
  }

  private CompletableFuture<PeerLink> link(PeerState st) {
    if (st.link == null || (st.link.isDone() && (st.link.isCompletedExceptionally() || st.link.join().isBroken()))) {
      st.link = PeerLink.open(host, st.id, fetchingIntervalMillis);
      st.link.thenCompose(PeerLink::hello).thenAccept(h -> loop.execute(() -> {
        st.seed = h.role() == BlockMessage.Role.SEED;
        if (st.seed) {
          lanPeers.remove(st.id);
        }
        updatePeerGauges();
      }));
    }
    return st.link;
  }

  private void updatePeerGauges() {
    int seeds = 0;
    for (PeerState st : peers.values()) {
      if (st.seed) {
        seeds++;
      }
    }
    metrics.peers(peers.size(), seeds);
  }

  /** Peers that currently serve blocks, for operators and tests. */
  public CompletableFuture<List<PeerId>> peers() {
    return CompletableFuture.supplyAsync(() -> List.copyOf(peers.keySet()), loop);
  }

  /**
   * Whether this node is the designated fetcher of {@code name} among itself and its LAN peers: then it
   * loads the block from the origin on behalf of peers that ask for it.
   */
  public boolean isDesignated(BlockName name) {
    List<PeerId> candidates = new ArrayList<>(lanPeers);
    candidates.add(host.peerId());
    return Rendezvous.designated(candidates, PeerId::toBytes, name.sha1()).equals(host.peerId());
  }

  // ---- BlockSource ----

  @Override
  public Fetched fetch(BlockEntry.Stored entry) throws IOException {
    try {
      return fetchAsync(entry).get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("block " + entry.name() + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching block " + entry.name(), e);
    }
  }

  public CompletableFuture<Fetched> fetchAsync(BlockEntry.Stored entry) {
    var result = new CompletableFuture<Fetched>();
    loop.execute(() -> {
      Integer id = ids.get(entry.name());
      Pending p;
      if (id == null) {
        id = nextId++;
        p = new Pending(entry);
        ids.put(entry.name(), id);
        pending.put(id, p);
        handle(new ExchangeEvent.Want(id));
      } else {
        p = pending.get(id);
      }
      p.future.whenComplete((f, e) -> {
        if (e != null) {
          result.completeExceptionally(e);
        } else {
          result.complete(f);
        }
      });
    });
    return result;
  }

  // ---- the policy loop ----

  /**
   * Queues an event for the policy. Actions run inside {@link BlockExchange#handle}, so anything they
   * learn goes back through the loop, never into the policy re-entrantly.
   */
  private void post(ExchangeEvent event) {
    loop.execute(() -> handle(event));
  }

  private void handle(ExchangeEvent event) {
    long now = nanoTime.getAsLong();
    policy.handle(event, now, this::act);
    reschedule();
  }

  private void reschedule() {
    long next = policy.nextDeadline();
    if (next == Long.MAX_VALUE || next >= tickAt && tick != null && !tick.isDone()) {
      return;
    }
    if (tick != null) {
      tick.cancel(false);
    }
    tickAt = next;
    long delay = Math.max(0, next - nanoTime.getAsLong());
    tick = loop.schedule(() -> {
      tickAt = Long.MAX_VALUE;
      handle(new ExchangeEvent.Tick());
    }, delay, TimeUnit.NANOSECONDS);
  }

  private void act(ExchangeAction action) {
    switch (action) {
      case ExchangeAction.Request r -> requestFromPeer(r.peer(), r.block());
      case ExchangeAction.RequestOrigin r -> requestFromOrigin(r.block());
      case ExchangeAction.Cancel c -> { } // late answers are ignored by the policy
      case ExchangeAction.FindProviders f -> findProviders(f.block());
      case ExchangeAction.Deliver d -> deliver(d.block());
      case ExchangeAction.Disconnect d -> disconnect(d.peer(), d.banned());
      case ExchangeAction.Unavailable u -> unavailable(u.block());
    }
  }

  private void findProviders(int block) {
    metrics.lookup();
    Pending p = pending.get(block);
    if (p == null) {
      post(new ExchangeEvent.LookupFinished(block));
      return;
    }
    p.lookups++;
    BlockName name = p.entry.name();
    List<PeerId> candidates = new ArrayList<>();
    for (PeerState st : peers.values()) {
      if (st.onLan && !st.seed) {
        candidates.add(st.id);
      }
    }
    candidates.add(host.peerId());
    PeerId designated = Rendezvous.designated(candidates, PeerId::toBytes, name.sha1());
    List<Provider> seeds = new ArrayList<>();
    for (PeerState st : peers.values()) {
      if (st.seed) {
        seeds.add(new Provider(st.handle, SourceTier.SEED, 0));
      }
    }
    boolean self = designated.equals(host.peerId());
    if (seedRole) {
      askWhoHas(block, name, seedsOnly());
      return;
    }
    if (p.lookups == 1 && (!self || !seeds.isEmpty())) {
      // The designated LAN peer serves the block, fetching it if it must; seeds (which fetch through
      // from the origin for the whole campus) come next. A designated node asks the seeds itself.
      List<Provider> providers = new ArrayList<>();
      if (!self) {
        providers.add(new Provider(peers.get(designated).handle, SourceTier.LAN, 0));
      }
      providers.addAll(seeds);
      post(new ExchangeEvent.ProvidersFound(block, providers));
      post(new ExchangeEvent.LookupFinished(block));
      return;
    }
    // This node is the designated fetcher, or the designated peer failed: ask every LAN peer and seed
    // which of them holds the block, and use those; if none does, the policy turns to the origin.
    List<PeerState> asked = new ArrayList<>();
    for (PeerState st : peers.values()) {
      if (st.onLan || st.seed) {
        asked.add(st);
      }
    }
    askWhoHas(block, name, asked);
  }

  private List<PeerState> seedsOnly() {
    List<PeerState> out = new ArrayList<>();
    for (PeerState st : peers.values()) {
      if (st.seed) {
        out.add(st);
      }
    }
    return out;
  }

  /** Sends a have-query to each of {@code asked}; those that hold the block become its providers. */
  private void askWhoHas(int block, BlockName name, List<PeerState> asked) {
    if (asked.isEmpty()) {
      post(new ExchangeEvent.LookupFinished(block));
      return;
    }
    List<CompletableFuture<Void>> answers = new ArrayList<>();
    for (PeerState st : asked) {
      long handle = st.handle;
      SourceTier tier = st.tier();
      answers.add(link(st).thenCompose(l -> l.query(List.of(name)))
          .orTimeout(HAVE_QUERY_TIMEOUT_MS, TimeUnit.MILLISECONDS)
          .handle((has, err) -> {
            if (err == null && has.length == 1 && has[0]) {
              loop.execute(() -> handle(new ExchangeEvent.ProvidersFound(block, List.of(new Provider(handle, tier, 0)))));
            }
            return null;
          }));
    }
    CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
        .whenComplete((v, e) -> loop.execute(() -> handle(new ExchangeEvent.LookupFinished(block))));
  }

  private void requestFromPeer(long handle, int block) {
    PeerState st = peersByHandle.get(handle);
    Pending p = pending.get(block);
    if (st == null || p == null) {
      post(new ExchangeEvent.RequestFailed(handle, block));
      return;
    }
    BlockEntry.Stored entry = p.entry;
    String label = st.label();
    Runnable fetching = () -> {
      metrics.fetchingNoticeReceived();
      post(new ExchangeEvent.PeerFetching(handle, block));
    };
    link(st).thenCompose(l -> l.want(entry.name(), fetching)).whenComplete((reply, err) -> {
      // Verify off the loop thread; only the verdict goes to the policy.
      ExchangeEvent ev;
      if (err != null) {
        LOG.log(Level.DEBUG, "want {0} from {1} failed: {2}", entry.name(), st.id, err.getMessage());
        ev = new ExchangeEvent.RequestFailed(handle, block);
      } else {
        ev = switch (reply) {
          case PeerLink.Reply.Got g -> {
            var r = BlockVerifier.verify(entry, g.data());
            if (r.ok()) {
              yield new ExchangeEvent.BlockReceived(handle, block, true);
            }
            LOG.log(Level.WARNING, "peer {0} sent block {1} that fails verification ({2}); not using it",
                st.id, entry.name(), r.describe());
            metrics.badBlock();
            yield new ExchangeEvent.BlockReceived(handle, block, false);
          }
          case PeerLink.Reply.NotHeld n -> new ExchangeEvent.DontHave(handle, block);
          case PeerLink.Reply.Busy b -> new ExchangeEvent.RequestFailed(handle, block);
        };
      }
      // Only bytes that verified travel on to the readers.
      boolean valid = ev instanceof ExchangeEvent.BlockReceived br && br.valid();
      post(block, valid ? ((PeerLink.Reply.Got) reply).data() : null, label, ev);
    });
  }

  /** Keeps the first verified copy of a block (if {@code data} is one) and tells the policy, on the loop. */
  private void post(int block, byte[] data, String source, ExchangeEvent ev) {
    loop.execute(() -> {
      Pending now = pending.get(block);
      if (data != null && now != null && now.data == null) {
        now.data = data;
        now.source = source;
      }
      handle(ev);
    });
  }

  private void requestFromOrigin(int block) {
    Pending p = pending.get(block);
    if (origins == null || p == null) {
      post(new ExchangeEvent.RequestFailed(BlockExchange.ORIGIN, block));
      return;
    }
    BlockEntry.Stored entry = p.entry;
    originPool.execute(() -> {
      ExchangeEvent ev;
      byte[] data = null;
      try {
        data = origins.fetch(entry).stored(); // verified by the fetcher
        ev = new ExchangeEvent.BlockReceived(BlockExchange.ORIGIN, block, true);
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "origin fetch of block {0} failed: {1}", entry.name(), e.getMessage());
        ev = new ExchangeEvent.RequestFailed(BlockExchange.ORIGIN, block);
      }
      post(block, data, "origin", ev);
    });
  }

  private void deliver(int block) {
    Pending p = pending.remove(block);
    if (p == null) {
      return;
    }
    ids.remove(p.entry.name());
    metrics.received(p.source, p.data.length);
    p.future.complete(new Fetched(p.data, p.source));
  }

  private void unavailable(int block) {
    Pending p = pending.remove(block);
    if (p == null) {
      return;
    }
    ids.remove(p.entry.name());
    metrics.unavailable();
    p.future.completeExceptionally(new IOException("block " + p.entry.name()
        + " is unavailable: no peer served it" + (origins == null ? " and no origin is configured" : " and the origins failed")));
  }

  private void disconnect(long handle, boolean ban) {
    PeerState st = peersByHandle.get(handle);
    if (st == null) {
      return;
    }
    LOG.log(Level.WARNING, "disconnecting peer {0}{1}", st.id, ban ? " and banning it" : "");
    if (ban) {
      banned.add(st.id);
      metrics.ban();
    }
    removePeer(st.id);
    for (Connection c : host.connections(st.id)) {
      c.close();
    }
  }

  @Override
  public void close() {
    loop.execute(() -> {
      for (PeerState st : peers.values()) {
        if (st.link != null) {
          st.link.thenAccept(PeerLink::close);
        }
      }
      for (Pending p : pending.values()) {
        p.future.completeExceptionally(new IOException("the node is shutting down"));
      }
      pending.clear();
    });
  }
}
