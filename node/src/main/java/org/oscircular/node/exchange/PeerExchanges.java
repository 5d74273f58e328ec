package org.oscircular.node.exchange;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.p2p.Host;
import org.oscircular.protocol.blocks.BlockMessage;
import org.oscircular.protocol.exchange.ExchangeConfig;

/** Wires the exchange's two halves onto a host: asking peers for blocks, and serving them. */
public final class PeerExchanges {
  private PeerExchanges() {}

  /** The requesting half: a block source that asks peers first and {@code origins} (may be null) last. */
  public static PeerExchange create(Host host, ExchangeConfig config, boolean seed, RandomGenerator random,
      BlockFetcher origins, Executor originPool, ScheduledExecutorService loop, LongSupplier nanoTime,
      MeterRegistry registry) {
    return new PeerExchange(host, config, seed, random, origins, originPool, loop, nanoTime, metrics(registry));
  }

  /**
   * The serving half: answers {@code /circular/blocks/1.0.0} from {@code provider} within upload limits;
   * {@code timers} paces the Fetching notices of blocks being loaded for a peer.
   */
  public static void serve(Host host, BlockProvider provider, Executor uploads, int maxUploads, long bytesPerSecond,
      BlockMessage.Role role, MeterRegistry registry, ScheduledExecutorService timers) {
    new BlockService(provider, uploads, new UploadLimiter(maxUploads, bytesPerSecond, System::nanoTime, Sleeper.SYSTEM),
        role, List::of, metrics(registry), timers).register(host);
  }

  private static final java.util.Map<MeterRegistry, ExchangeMetrics> METRICS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /** One set of exchange meters per registry, shared by both halves. */
  private static ExchangeMetrics metrics(MeterRegistry registry) {
    return METRICS.computeIfAbsent(registry, ExchangeMetrics::new);
  }
}
