package org.oscircular.node.origin;

import java.io.IOException;
import java.time.Clock;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockVerifier;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * A verifying client of one origin: opens the catalog with the trust file and the remembered sequence
 * (refusing rollback and expired catalogs), opens tables against the catalog's digests, and returns
 * block bytes only after they match the signed table.
 */
public final class OriginClient implements AutoCloseable {
  private final OriginReader reader;
  private final TrustedKeys trust;
  private final CatalogState state;
  private final Clock clock;

  public OriginClient(OriginReader reader, TrustedKeys trust, CatalogState state, Clock clock) {
    this.reader = reader;
    this.trust = trust;
    this.state = state;
    this.clock = clock;
  }

  public OriginReader reader() {
    return reader;
  }

  /** Fetches and opens the catalog, then remembers its sequence. */
  public Catalog catalog() throws IOException {
    byte[] signed = reader.read(OriginLayout.CATALOG);
    Catalog c;
    try {
      c = Documents.openCatalog(signed, trust, state.lastSeen(reader.describe()), clock.instant());
    } catch (FormatException e) {
      throw new FormatException(reader.describe() + ": " + e.getMessage(), e);
    }
    state.record(reader.describe(), c.sequence());
    return c;
  }

  /** Fetches and opens the table of a catalog entry. */
  public ImageTable table(Catalog.Entry entry) throws IOException {
    byte[] signed = reader.read(OriginLayout.table(entry.name(), entry.version()));
    return Documents.openTable(signed, entry, trust, clock.instant());
  }

  /** A block that failed verification: names the block and the reason. */
  public static final class BadBlockException extends IOException {
    public BadBlockException(String message) {
      super(message);
    }
  }

  /** Fetches one stored block and verifies it; throws {@link BadBlockException} naming it when it does not match. */
  public byte[] block(BlockEntry.Stored entry) throws IOException {
    byte[] stored = reader.read(OriginLayout.block(entry.name()));
    BlockVerifier.Result r = BlockVerifier.verify(entry, stored);
    if (!r.ok()) {
      throw new BadBlockException("block " + entry.name() + " from " + reader.describe() + " is bad: " + r.describe());
    }
    return stored;
  }

  @Override
  public void close() {
    reader.close();
  }
}
