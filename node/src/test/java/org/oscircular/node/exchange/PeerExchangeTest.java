package org.oscircular.node.exchange;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.oscircular.node.testing.Await;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.HostConfig;
import org.oscircular.protocol.blocks.BlockMessage;
import org.oscircular.protocol.exchange.ExchangeConfig;
import org.oscircular.protocol.exchange.OriginMode;
import org.oscircular.protocol.exchange.Rendezvous;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PeerExchangeTest {
  @TempDir Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<ExecutorService> pools = new ArrayList<>();

  /** A block, its entry and its stored bytes. */
  record Sample(BlockEntry.Stored entry, byte[] stored) {}

  static List<Sample> samples(int n, long seed) {
    var r = new SplittableRandom(seed);
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] plain = new byte[64 * 1024];
      r.nextBytes(plain);
      var enc = new BlockEncoder(Codec.NONE).encode(plain, 0, plain.length);
      out.add(new Sample((BlockEntry.Stored) enc.entry(), enc.stored()));
    }
    return out;
  }

  /** Serves whatever is in the map; can be told to corrupt what it serves. */
  static final class MapProvider implements BlockProvider {
    final Map<BlockName, byte[]> blocks = new ConcurrentHashMap<>();
    volatile boolean corrupt;

    @Override
    public boolean has(BlockName name) {
      return blocks.containsKey(name);
    }

    @Override
    public Optional<byte[]> serve(BlockName name, Runnable loading) {
      byte[] b = blocks.get(name);
      if (b == null) {
        return Optional.empty();
      }
      byte[] copy = b.clone();
      if (corrupt) {
        copy[copy.length / 2] ^= 0x5A;
      }
      return Optional.of(copy);
    }
  }

  private ExecutorService pool(int n) {
    var p = Executors.newFixedThreadPool(n);
    pools.add(p);
    return p;
  }

  private Host host(BlockProvider provider, SimpleMeterRegistry registry) throws IOException {
    Host h = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(2), new SecureRandom());
    closeables.add(h);
    if (provider != null) {
      ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
      pools.add(timers);
      new BlockService(provider, pool(4), new UploadLimiter(16, 0, System::nanoTime, Sleeper.SYSTEM),
          BlockMessage.Role.CLIENT, List::of, new ExchangeMetrics(registry), timers).register(h);
    }
    h.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
    return h;
  }

  private PeerExchange exchange(Host h, BlockFetcher origins, OriginMode mode, SimpleMeterRegistry registry) {
    return exchange(h, origins, ExchangeConfig.defaults().withOriginMode(mode), registry);
  }

  private PeerExchange exchange(Host h, BlockFetcher origins, ExchangeConfig config, SimpleMeterRegistry registry) {
    ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();
    pools.add(loop);
    var ex = new PeerExchange(h, config, false, new SplittableRandom(3), origins, pool(4), loop, System::nanoTime,
        new ExchangeMetrics(registry));
    closeables.add(ex);
    return ex;
  }

  private static void connect(Host from, Host to) throws Exception {
    from.dial(to.listenAddresses().getFirst().withPeerId(to.peerId())).get(10, TimeUnit.SECONDS);
  }

  /** Waits up to 20 s for {@code condition}; a timeout names {@code what}. */
  private static void waitUntil(String what, Await.Condition<RuntimeException> condition) throws InterruptedException {
    Await.atMost(Duration.ofSeconds(20)).every(Duration.ofMillis(20)).until(what, condition);
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
    pools.forEach(ExecutorService::shutdownNow);
  }

  private static double counter(SimpleMeterRegistry r, String name, String... tags) {
    var c = r.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void fetchesBlocksFromALanPeerThatHoldsThemWithoutAnyOrigin() throws Exception {
    var registry = new SimpleMeterRegistry();
    var holder = new MapProvider();
    List<Sample> blocks = samples(24, 1);
    blocks.forEach(s -> holder.blocks.put(s.entry().name(), s.stored()));
    Host a = host(holder, registry);
    Host b = host(null, registry);
    PeerExchange ex = exchange(b, null, OriginMode.NEVER, registry);
    connect(b, a);
    waitUntil("ex.peers().join().contains(a.peerId())", () -> ex.peers().join().contains(a.peerId()));

    for (Sample s : blocks) {
      var got = ex.fetch(s.entry());
      assertThat(got.stored()).isEqualTo(s.stored());
      assertThat(got.source()).isEqualTo("lan");
    }
    assertThat(counter(registry, "circular.exchange.blocks", "source", "lan")).isEqualTo(24);
  }

  @Test
  void aPeerServingCorruptBlocksIsDisconnectedThenBannedAndNothingCorruptIsDelivered() throws Exception {
    var registry = new SimpleMeterRegistry();
    List<Sample> blocks = samples(64, 2);
    var liar = new MapProvider();
    liar.corrupt = true;
    var honest = new MapProvider();
    blocks.forEach(s -> {
      liar.blocks.put(s.entry().name(), s.stored());
      honest.blocks.put(s.entry().name(), s.stored());
    });
    Host bad = host(liar, registry);
    Host good = host(honest, registry);
    Host reader = host(null, registry);
    PeerExchange ex = exchange(reader, null, OriginMode.NEVER, registry);
    connect(reader, good);
    waitUntil("ex.peers().join().size() == 1", () -> ex.peers().join().size() == 1);

    // First offence: the liar is disconnected, the blocks still arrive intact from the honest peer.
    int next = 0;
    connect(reader, bad);
    waitUntil("ex.peers().join().size() == 2", () -> ex.peers().join().size() == 2);
    while (counter(registry, "circular.exchange.bad.blocks") < 1 && next < 32) {
      Sample s = blocks.get(next++);
      assertThat(ex.fetch(s.entry()).stored()).isEqualTo(s.stored());
    }
    assertThat(counter(registry, "circular.exchange.bad.blocks")).isEqualTo(1);
    waitUntil("!ex.peers().join().contains(bad.peerId())", () -> !ex.peers().join().contains(bad.peerId()));
    assertThat(counter(registry, "circular.exchange.bans")).isZero();

    // It comes back and lies again: now it is banned, and refused when it reconnects.
    connect(reader, bad);
    waitUntil("ex.peers().join().contains(bad.peerId())", () -> ex.peers().join().contains(bad.peerId()));
    while (counter(registry, "circular.exchange.bans") < 1 && next < blocks.size()) {
      Sample s = blocks.get(next++);
      assertThat(ex.fetch(s.entry()).stored()).isEqualTo(s.stored());
    }
    assertThat(counter(registry, "circular.exchange.bans")).isEqualTo(1);
    waitUntil("reader.connections(bad.peerId()).isEmpty()", () -> reader.connections(bad.peerId()).isEmpty());
    connect(reader, bad);
    waitUntil("reader.connections(bad.peerId()).isEmpty()", () -> reader.connections(bad.peerId()).isEmpty());
    assertThat(ex.peers().join()).doesNotContain(bad.peerId());
  }

  @Test
  void theOriginServesBlocksNoPeerHolds() throws Exception {
    var registry = new SimpleMeterRegistry();
    List<Sample> blocks = samples(8, 3);
    Path origin = dir.resolve("origin");
    for (Sample s : blocks) {
      Path p = origin.resolve(OriginLayout.block(s.entry().name()));
      Files.createDirectories(p.getParent());
      Files.write(p, s.stored());
    }
    var fetcher = new BlockFetcher(List.of(Origin.parse(origin.toString(), 2, Duration.ofSeconds(5))),
        FetchConfig.defaults(), Sleeper.SYSTEM);
    Host empty = host(new MapProvider(), registry);
    Host reader = host(null, registry);
    PeerExchange ex = exchange(reader, fetcher, OriginMode.FALLBACK, registry);
    connect(reader, empty);
    waitUntil("ex.peers().join().size() == 1", () -> ex.peers().join().size() == 1);

    for (Sample s : blocks) {
      var got = ex.fetch(s.entry());
      assertThat(got.stored()).isEqualTo(s.stored());
    }
    assertThat(counter(registry, "circular.exchange.blocks", "source", "origin")).isEqualTo(8);
  }

  @Test
  void aBlockNoOneHasIsAnIoErrorInNeverOriginMode() throws Exception {
    var registry = new SimpleMeterRegistry();
    Host empty = host(new MapProvider(), registry);
    Host reader = host(null, registry);
    PeerExchange ex = exchange(reader, null, OriginMode.NEVER, registry);
    connect(reader, empty);
    waitUntil("ex.peers().join().size() == 1", () -> ex.peers().join().size() == 1);
    Sample missing = samples(1, 4).getFirst();
    assertThatThrownBy(() -> ex.fetch(missing.entry()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("block " + missing.entry().name() + " is unavailable");
  }

  /**
   * An HTTP origin on loopback that sends each block slowly (the head at once, then the body in pieces over
   * {@code duration}) and counts the requests for each block.
   */
  private HttpServer slowOrigin(List<Sample> blocks, Duration duration, Map<String, AtomicInteger> requests)
      throws IOException {
    Map<String, byte[]> byPath = new ConcurrentHashMap<>();
    for (Sample s : blocks) {
      byPath.put("/" + OriginLayout.block(s.entry().name()), s.stored());
    }
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.setExecutor(pool(16));
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      byte[] body = byPath.get(path);
      requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
      if (body == null) {
        exchange.sendResponseHeaders(404, -1);
        exchange.close();
        return;
      }
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        int pieces = 6;
        int step = body.length / pieces;
        for (int i = 0; i < pieces; i++) {
          Thread.sleep(duration.dividedBy(pieces));
          out.write(body, i * step, i == pieces - 1 ? body.length - i * step : step);
          out.flush();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    server.start();
    closeables.add(() -> server.stop(0));
    return server;
  }

  /** A designated peer: serves what it holds, and loads what it lacks from its origins first (fetch-through). */
  static final class FetchThroughProvider implements BlockProvider {
    final Map<BlockName, BlockEntry.Stored> entries = new ConcurrentHashMap<>();
    final Map<BlockName, byte[]> held = new ConcurrentHashMap<>();
    final BlockFetcher origins;

    FetchThroughProvider(BlockFetcher origins) {
      this.origins = origins;
    }

    @Override
    public boolean has(BlockName name) {
      return held.containsKey(name);
    }

    @Override
    public Optional<byte[]> serve(BlockName name, Runnable loading) throws IOException {
      byte[] b = held.get(name);
      if (b == null && entries.containsKey(name)) {
        loading.run();
        b = origins.fetch(entries.get(name)).stored();
        held.put(name, b);
      }
      return Optional.ofNullable(b);
    }
  }

  @Test
  void aRequesterWaitsForADesignatedPeerLoadingFromASlowOriginSoTheOriginServesEachBlockOnce() throws Exception {
    var registry = new SimpleMeterRegistry();
    Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    List<Sample> all = samples(40, 5);
    HttpServer origin = slowOrigin(all, Duration.ofMillis(1500), requests);
    String base = "http://127.0.0.1:" + origin.getAddress().getPort() + "/";
    var holderOrigins = new BlockFetcher(List.of(Origin.parse(base, 4, Duration.ofSeconds(10))),
        FetchConfig.defaults(), Sleeper.SYSTEM);
    var readerOrigins = new BlockFetcher(List.of(Origin.parse(base, 4, Duration.ofSeconds(10))),
        FetchConfig.defaults(), Sleeper.SYSTEM);
    var loader = new FetchThroughProvider(holderOrigins);
    all.forEach(s -> loader.entries.put(s.entry().name(), s.entry()));
    Host holder = host(loader, registry);
    Host reader = host(null, registry);
    // The holder's load (1.5 s) outlasts the request timeout (600 ms) and the hedge (1 s); notices every 200 ms.
    var config = new ExchangeConfig(4, 32, 4, OriginMode.FALLBACK, 600_000_000L, 1_000_000_000L, 3, 2,
        600_000_000_000L, 3, 100_000_000L, 3, ExchangeConfig.DEFAULT_MAX_PEER_RECORDS, 200_000_000L,
        20_000_000_000L);
    PeerExchange ex = exchange(reader, readerOrigins, config, registry);
    connect(reader, holder);
    waitUntil("ex.peers().join().contains(holder.peerId())", () -> ex.peers().join().contains(holder.peerId()));

    // Four blocks (one per request slot) that the holder is the designated fetcher of, wanted at once.
    List<PeerId> lan = List.of(holder.peerId(), reader.peerId());
    List<Sample> designated = all.stream()
        .filter(s -> Rendezvous.designated(lan, PeerId::toBytes, s.entry().name().sha1()).equals(holder.peerId()))
        .limit(4).toList();
    assertThat(designated).hasSize(4);
    var fetches = designated.stream().map(s -> ex.fetchAsync(s.entry())).toList();
    for (int i = 0; i < fetches.size(); i++) {
      var got = fetches.get(i).get(30, TimeUnit.SECONDS);
      assertThat(got.stored()).isEqualTo(designated.get(i).stored());
      assertThat(got.source()).isEqualTo("lan");
    }
    for (Sample s : designated) {
      assertThat(requests.get("/" + OriginLayout.block(s.entry().name())).get())
          .as("origin requests for block %s", s.entry().name()).isEqualTo(1);
    }
    assertThat(counter(registry, "circular.exchange.blocks", "source", "origin")).isZero();
    assertThat(counter(registry, "circular.exchange.fetching.notices", "direction", "received")).isPositive();
  }
}
