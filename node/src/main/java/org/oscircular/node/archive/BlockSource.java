package org.oscircular.node.archive;

import java.io.IOException;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.protocol.format.BlockEntry;

/**
 * Where a {@link BlockLoader} gets blocks it does not have: the origins alone, or peers with the origins
 * as fallback. Implementations return only bytes that verify against {@code entry}.
 */
@FunctionalInterface
public interface BlockSource {
  /** Verified stored bytes and a short name of where they came from ("origin", "lan", "seed", a URL). */
  record Fetched(byte[] stored, String source) {}

  Fetched fetch(BlockEntry.Stored entry) throws IOException;

  /** The origins only, in order with failover. */
  static BlockSource origins(BlockFetcher fetcher) {
    return entry -> {
      BlockFetcher.Fetched f = fetcher.fetch(entry);
      return new Fetched(f.stored(), f.source().describe());
    };
  }
}
