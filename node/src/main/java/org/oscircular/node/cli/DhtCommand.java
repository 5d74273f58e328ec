package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.oscircular.node.discovery.MdnsDiscovery;
import org.oscircular.node.kad.DhtNode;
import org.oscircular.node.kad.KadContact;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.HostConfig;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multibase;
import org.oscircular.protocol.p2p.Multihash;
import org.oscircular.protocol.p2p.Varint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code circular dht provide|find-providers|peers}: debug a DHT from a throwaway node that joins it through
 * {@code --bootstrap} peers (ours or any kad-dht speaking {@value DhtNode#PROTOCOL_ID}).
 */
@Command(name = "dht", mixinStandardHelpOptions = true,
    description = "Debug the block DHT: announce blocks, find their providers, list peers.",
    subcommands = {DhtCommand.Provide.class, DhtCommand.FindProviders.class, DhtCommand.Peers.class})
final class DhtCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Options every subcommand shares. */
  static class Join {
    @Option(names = "--bootstrap", paramLabel = "MULTIADDR", split = ",",
        description = "DHT peer(s) to join through, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW…")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--mdns", description = "Find peers on the LAN with mDNS (_p2p._udp.local) as well.")
    boolean mdns;

    @Option(names = "--mdns-wait", paramLabel = "DURATION", defaultValue = "5s",
        description = "Without --bootstrap: how long to wait for mDNS to find a DHT peer (default: ${DEFAULT-VALUE}).")
    String mdnsWait;

    @Option(names = "--listen", paramLabel = "MULTIADDR", defaultValue = "/ip4/0.0.0.0/tcp/0",
        description = "Where this throwaway node listens (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", description = "Overall timeout (default: ${DEFAULT-VALUE}).")
    String timeout;

    private MdnsDiscovery discovery;

    <T> T run(boolean server, Session<T> session) throws Exception {
      SecureRandom random = new SecureRandom();
      ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dht");
        t.setDaemon(true);
        return t;
      });
      long ms = Sizes.parseDuration(timeout).toMillis();
      try (Host host = new Host(IdentityKey.generate(random), HostConfig.defaults().withIoThreads(1), random)) {
        host.listen(Multiaddr.parse(listen));
        DhtNode dht = new DhtNode(host, KadConfig.DEFAULTS, server, executor, System::currentTimeMillis,
            new SplittableRandom(random.nextLong()));
        dht.start();
        if (bootstrap.isEmpty() && !mdns) {
          throw new IllegalArgumentException("give --bootstrap MULTIADDR or --mdns, or both");
        }
        if (mdns) {
          discovery = new MdnsDiscovery(host, Duration.ofSeconds(2), executor, new SplittableRandom(random.nextLong()));
          discovery.start();
        }
        if (!bootstrap.isEmpty()) {
          await(dht.bootstrap(bootstrap.stream().map(Multiaddr::parse).toList()), ms);
        } else {
          long deadline = System.nanoTime() + Sizes.parseDuration(mdnsWait).toNanos();
          while (await(dht.peers(), ms).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100); // polling the routing table for what mDNS brought in, bounded by --mdns-wait
          }
          await(dht.findNode(host.peerId().toBytes()), ms);
        }
        return session.run(dht, ms);
      } finally {
        if (discovery != null) discovery.close();
        executor.shutdownNow();
      }
    }
  }

  interface Session<T> {
    T run(DhtNode dht, long timeoutMillis) throws Exception;
  }

  static <T> T await(CompletableFuture<T> f, long ms) throws Exception {
    try {
      return f.get(ms, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    } catch (TimeoutException e) {
      throw new IOException("DHT operation timed out after " + ms + " ms", e);
    }
  }

  @Command(name = "provide", mixinStandardHelpOptions = true,
      description = "Announce that this (throwaway) node provides the given blocks.")
  static final class Provide implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin Join join;

    @Parameters(paramLabel = "SHA1", arity = "1..*",
        description = "Block names: 40 hex digits, a CIDv1 raw sha1 (bafkrcf…) or a sha1 multihash in hex; "
            + "or any other CID (its multihash is the key).")
    List<String> blocks;

    @Option(names = "--single-key", description = "Send standard one-key ADD_PROVIDER messages (for other implementations).")
    boolean singleKey;

    @Option(names = "--hold", paramLabel = "DURATION", defaultValue = "0s", description = "Stay online this long after announcing (default: ${DEFAULT-VALUE}).")
    String hold;

    @Override
    public Integer call() throws Exception {
      List<Multihash> keys = blocks.stream().map(DhtCommand::contentKey).toList();
      AnnounceScheduler.Options options = singleKey
          ? new AnnounceScheduler.Options(AnnounceScheduler.Strategy.REGION_SWEEP,
              AnnounceScheduler.Options.DEFAULT_PARALLEL_LOOKUPS, 1)
          : AnnounceScheduler.Options.sweep();
      var out = spec.commandLine().getOut();
      join.run(true, (dht, ms) -> {
        AnnounceReport r = await(dht.provideKeys(keys, options), ms);
        out.printf("announced %d block(s): %d lookups, %d queries, %d ADD_PROVIDER messages, %d records, %d ms%n",
            r.keys(), r.lookups(), r.lookupRpcs(), r.addProviderMessages(), r.providerRecords(), r.elapsedMillis());
        out.flush();
        long holdMs = Sizes.parseDuration(hold).toMillis();
        if (holdMs > 0) Thread.sleep(holdMs); // keep serving the provider address for others to use
        return 0;
      });
      return 0;
    }
  }

  @Command(name = "find-providers", mixinStandardHelpOptions = true,
      description = "Look up who provides a block.")
  static final class FindProviders implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin Join join;

    @Parameters(paramLabel = "SHA1", description = "Block name (hex SHA-1, bafkrcf… CID or sha1 multihash hex), "
        + "or any other CID (CIDv1 base32/base58, CIDv0 Qm…), e.g. content another kad-dht implementation provides.")
    String block;

    @Option(names = {"-n", "--count"}, paramLabel = "N", defaultValue = "20", description = "Stop after this many providers (default: ${DEFAULT-VALUE}).")
    int count;

    @Override
    public Integer call() throws Exception {
      Multihash key = contentKey(block);
      String label = key.code() == Multihash.SHA1 && key.digest().length == 20
          ? "block " + BlockKey.fromMultihash(key.toBytes()).cid() + " (" + BlockKey.fromMultihash(key.toBytes()).hex() + ")"
          : "key " + block.strip() + " (multihash " + HexFormat.of().formatHex(key.toBytes()) + ")";
      var out = spec.commandLine().getOut();
      return join.run(false, (dht, ms) -> {
        LookupResult<KadContact> r = await(dht.findProviders(key, count), ms);
        out.println(label + ": " + r.providers().size() + " provider(s), "
            + r.rpcs() + " queries, " + r.hops() + " hops, " + r.elapsedMillis() + " ms");
        for (KadContact c : r.providers()) out.println("  " + c);
        out.flush();
        return r.providers().isEmpty() ? 1 : 0;
      });
    }
  }

  /**
   * The DHT key (a multihash) named by {@code text}: a block name in any form {@link BlockKey#parse} reads, a CIDv1
   * in multibase base32 ({@code b…}) or base58btc ({@code z…}), or a CIDv0 ({@code Qm…}, a bare sha2-256 multihash).
   */
  static Multihash contentKey(String text) {
    try {
      return Multihash.fromBytes(BlockKey.parse(text).multihash());
    } catch (IllegalArgumentException notABlockName) {
      String t = text.strip();
      try {
        if (t.startsWith("Qm")) return Multihash.fromBytes(Multibase.decodeBase58btc(t));
        ByteBuffer cid = ByteBuffer.wrap(Multibase.decode(t));
        long version = Varint.readComplete(cid);
        if (version != 1) throw new IllegalArgumentException("CID version " + version + ", expected 1");
        Varint.readComplete(cid); // the content codec does not change the DHT key
        Multihash mh = Multihash.read(cid);
        if (cid.hasRemaining()) throw new IllegalArgumentException(cid.remaining() + " bytes after the multihash");
        return mh;
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("not a block name or CID (" + e.getMessage() + "): " + text);
      }
    }
  }

  @Command(name = "peers", mixinStandardHelpOptions = true,
      description = "Join through the bootstrap peers and list the routing table that results.")
  static final class Peers implements Callable<Integer> {
    @Spec CommandSpec spec;
    @picocli.CommandLine.Mixin Join join;

    @Override
    public Integer call() throws Exception {
      var out = spec.commandLine().getOut();
      return join.run(false, (dht, ms) -> {
        List<KadContact> peers = await(dht.peers(), ms);
        out.println(peers.size() + " peer(s) in the routing table:");
        for (KadContact c : peers) out.println("  " + c);
        out.flush();
        return 0;
      });
    }
  }
}
