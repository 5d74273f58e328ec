package org.oscircular.node.origin;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.fetch.Origin;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.CatalogCodec;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.TableCodec;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * A verifying client of an origin (and its mirrors, tried in order) for the commands that read without a
 * cache ({@code images}, {@code get}, {@code verify}): opens the catalog with the trust file and the
 * remembered sequence (refusing rollback and expired catalogs), opens tables against the catalog's
 * digests, and returns block bytes only after they match the signed table. Blocks come through the same
 * {@link BlockFetcher} as the mount's, with its failover and retries.
 */
public final class OriginClient implements AutoCloseable {
  private final BlockFetcher fetcher;
  private final TrustedKeys trust;
  private final CatalogState state;
  private final Clock clock;

  public OriginClient(BlockFetcher fetcher, TrustedKeys trust, CatalogState state, Clock clock) {
    this.fetcher = fetcher;
    this.trust = trust;
    this.state = state;
    this.clock = clock;
  }

  /** Fetches and opens the catalog from the first origin that serves a valid one, then remembers its sequence. */
  public Catalog catalog() throws IOException {
    List<IOException> failures = new ArrayList<>();
    for (Origin o : fetcher.origins()) {
      try {
        byte[] signed = o.get(OriginLayout.CATALOG, CatalogCodec.MAX_CATALOG_BYTES);
        Catalog c;
        try {
          c = Documents.openCatalog(signed, trust, state.lastSeen(o.describe()), clock.instant());
        } catch (FormatException e) {
          throw new FormatException(o.describe() + ": " + e.getMessage(), e);
        }
        state.record(o.describe(), c.sequence());
        return c;
      } catch (IOException e) {
        failures.add(e);
      }
    }
    throw firstOrAll(failures);
  }

  /** Fetches and opens the table of a catalog entry from the first origin that serves a valid one. */
  public ImageTable table(Catalog.Entry entry) throws IOException {
    List<IOException> failures = new ArrayList<>();
    for (Origin o : fetcher.origins()) {
      try {
        byte[] signed = o.get(OriginLayout.table(entry.name(), entry.version()), TableCodec.MAX_TABLE_BYTES);
        return Documents.openTable(signed, entry, trust, clock.instant());
      } catch (IOException e) {
        failures.add(e);
      }
    }
    throw firstOrAll(failures);
  }

  /** With one origin its own error; with mirrors one line listing what each said. */
  private static IOException firstOrAll(List<IOException> failures) {
    if (failures.size() == 1) {
      return failures.getFirst();
    }
    return new IOException(String.join("; ", failures.stream().map(Throwable::getMessage).toList()));
  }

  /**
   * Fetches one stored block, with failover and retries, and returns it only once it verifies; throws
   * {@link org.oscircular.node.fetch.BlockFetchException} naming the block and what each origin did.
   */
  public byte[] block(BlockEntry.Stored entry) throws IOException {
    return fetcher.fetch(entry).stored();
  }

  @Override
  public void close() {
    fetcher.origins().forEach(Origin::close);
  }
}
