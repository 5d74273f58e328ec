package org.oscircular.node.publish;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.CatalogCodec;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.SignedDocument;
import org.oscircular.protocol.format.TrustedKeys;
import org.oscircular.protocol.format.PublisherKey;

/**
 * Reads an origin's current catalog as its publisher and writes the next one: same key, sequence + 1,
 * a fresh expiry. Callers hold the origin lock.
 */
public final class CatalogEditor {
  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(30);

  private final OriginStore store;
  private final PublisherKey.Private key;
  private final Clock clock;
  private final Duration validity;

  public CatalogEditor(OriginStore store, PublisherKey.Private key, Clock clock, Duration validity) {
    if (validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("catalog validity must be positive, got " + validity);
    }
    this.store = store;
    this.key = key;
    this.clock = clock;
    this.validity = validity;
  }

  /**
   * The origin's catalog, or an empty one with sequence 0 when there is none yet. An expired catalog is
   * accepted (re-signing is how it is renewed); one signed by another key, or corrupt, is refused.
   */
  public Catalog current() throws IOException {
    var bytes = store.readCatalog();
    if (bytes.isEmpty()) {
      Instant now = clock.instant();
      return new Catalog(0, now, now, List.of());
    }
    try {
      SignedDocument doc;
      try {
        doc = SignedDocument.open(bytes.get(), SignedDocument.Kind.CATALOG, TrustedKeys.of(key.publicKey()),
            "catalog of " + store.root());
      } catch (FormatException e) {
        if (e.getMessage().contains("untrusted key")) {
          throw new FormatException("the catalog of " + store.root() + " is signed by another key, not by "
              + key.publicKey().keyId() + "; publish with the origin's key");
        }
        throw e;
      }
      return CatalogCodec.decode(doc.payload());
    } catch (FormatException e) {
      throw new FormatException(e.getMessage() + " (nothing was changed)", e);
    }
  }

  /** Signs and writes the catalog that follows {@code previous} with {@code entries}; returns it. */
  public Catalog write(Catalog previous, List<Catalog.Entry> entries) throws IOException {
    Instant now = clock.instant();
    Catalog next = new Catalog(previous.sequence() + 1, now, now.plus(validity), entries);
    store.writePublicKey(key.publicKey());
    store.writeCatalog(Documents.signCatalog(next, key));
    return next;
  }
}
