package org.oscircular.node.exchange;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.oscircular.protocol.p2p.PeerId;

/** The exchange's meters: where blocks came from, what went to peers, and misbehaviour. */
final class ExchangeMetrics {
  private final MeterRegistry registry;
  private final Counter fromLan;
  private final Counter fromSeed;
  private final Counter fromRemote;
  private final Counter fromOrigin;
  private final Counter bytesLan;
  private final Counter bytesSeed;
  private final Counter bytesRemote;
  private final Counter bytesOrigin;
  private final Counter badBlocks;
  private final Counter bans;
  private final Counter busy;
  private final Counter unavailable;
  private final Counter lookups;
  private final Counter fetchingSent;
  private final Counter fetchingReceived;
  private final java.util.concurrent.atomic.AtomicInteger peers = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger seeds = new java.util.concurrent.atomic.AtomicInteger();

  ExchangeMetrics(MeterRegistry registry) {
    this.registry = registry;
    fromLan = registry.counter("circular.exchange.blocks", "source", "lan");
    fromSeed = registry.counter("circular.exchange.blocks", "source", "seed");
    fromRemote = registry.counter("circular.exchange.blocks", "source", "remote");
    fromOrigin = registry.counter("circular.exchange.blocks", "source", "origin");
    bytesLan = registry.counter("circular.exchange.bytes", "source", "lan");
    bytesSeed = registry.counter("circular.exchange.bytes", "source", "seed");
    bytesRemote = registry.counter("circular.exchange.bytes", "source", "remote");
    bytesOrigin = registry.counter("circular.exchange.bytes", "source", "origin");
    badBlocks = registry.counter("circular.exchange.bad.blocks");
    bans = registry.counter("circular.exchange.bans");
    busy = registry.counter("circular.exchange.busy.answers");
    unavailable = registry.counter("circular.exchange.unavailable");
    lookups = registry.counter("circular.exchange.provider.lookups");
    fetchingSent = registry.counter("circular.exchange.fetching.notices", "direction", "sent");
    fetchingReceived = registry.counter("circular.exchange.fetching.notices", "direction", "received");
    registry.gauge("circular.exchange.peers", peers);
    registry.gauge("circular.exchange.seeds", seeds);
  }

  /** Peers that serve blocks, and how many of them are seeds. */
  void peers(int all, int seedCount) {
    peers.set(all);
    seeds.set(seedCount);
  }

  void received(String tier, int bytes) {
    switch (tier) {
      case "lan" -> {
        fromLan.increment();
        bytesLan.increment(bytes);
      }
      case "seed" -> {
        fromSeed.increment();
        bytesSeed.increment(bytes);
      }
      case "origin" -> {
        fromOrigin.increment();
        bytesOrigin.increment(bytes);
      }
      default -> {
        fromRemote.increment();
        bytesRemote.increment(bytes);
      }
    }
  }

  void uploaded(PeerId peer, int bytes) {
    registry.counter("circular.exchange.upload.bytes", "peer", peer.toString()).increment(bytes);
  }

  void badBlock() {
    badBlocks.increment();
  }

  void ban() {
    bans.increment();
  }

  void busy() {
    busy.increment();
  }

  void unavailable() {
    unavailable.increment();
  }

  void lookup() {
    lookups.increment();
  }

  void fetchingNoticeSent() {
    fetchingSent.increment();
  }

  void fetchingNoticeReceived() {
    fetchingReceived.increment();
  }

  void protocolError(PeerId peer) {
    registry.counter("circular.exchange.protocol.errors", "peer", peer.toString()).increment();
  }
}
