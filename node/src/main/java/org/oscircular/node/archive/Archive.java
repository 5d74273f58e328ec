package org.oscircular.node.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.BlockFetcher;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.OriginException;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.CatalogCodec;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.TableCodec;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * A client's view of one archive: the signed catalog (fetched from the first origin that serves a
 * valid one, else the cached copy, so a cached image mounts with no network) and a reader for each image
 * version. The highest catalog sequence seen is persisted in the cache: an older catalog is refused
 * (rollback), an expired one too (freeze). Tables are cached after they verify against the catalog.
 */
public final class Archive {
  private static final System.Logger LOG = System.getLogger(Archive.class.getName());
  static final String CATALOG_DOC = "catalog";
  static final String SEQUENCE_DOC = "catalog-sequence";

  private volatile Catalog catalog;
  private volatile String catalogSource;
  private final TrustedKeys trust;
  private final RocksBlockStore store;
  private final BlockFetcher fetcher;
  private final BlockLoader loader;
  private final FetchConfig config;
  private final InstantSource clock;
  private final ConcurrentHashMap<String, ImageReader> readers = new ConcurrentHashMap<>();
  /** One lock per reader key, held while that reader's table is loaded (see {@link #reader(Catalog.Entry)}). */
  private final ConcurrentHashMap<String, Object> loading = new ConcurrentHashMap<>();

  private Archive(Catalog catalog, String catalogSource, TrustedKeys trust, RocksBlockStore store,
      BlockFetcher fetcher, BlockLoader loader, FetchConfig config,
      InstantSource clock) {
    this.catalog = catalog;
    this.catalogSource = catalogSource;
    this.trust = trust;
    this.store = store;
    this.fetcher = fetcher;
    this.loader = loader;
    this.config = config;
    this.clock = clock;
  }

  /**
   * Opens the archive served by {@code origins} (tried in order), caching in {@code store}.
   * {@code background} runs readahead and prefetch; {@code clock} decides catalog expiry.
   */
  public static Archive open(List<Origin> origins, RocksBlockStore store, TrustedKeys trust, FetchConfig config,
      InstantSource clock, Sleeper sleeper, Executor background) throws IOException {
    return open(origins, store, trust, config, clock, sleeper, background, BlockSource::origins);
  }

  /**
   * Like {@link #open(List, RocksBlockStore, TrustedKeys, FetchConfig, InstantSource, Sleeper, Executor)},
   * with missing blocks loaded from the source {@code sources} builds around the origins' fetcher (for
   * example peers first, origins as fallback).
   */
  public static Archive open(List<Origin> origins, RocksBlockStore store, TrustedKeys trust, FetchConfig config,
      InstantSource clock, Sleeper sleeper, Executor background,
      Function<BlockFetcher, BlockSource> sources) throws IOException {
    var fetcher = new BlockFetcher(origins, config, sleeper);
    BlockSource source = sources.apply(fetcher);
    // One cache may serve several archives: catalog state is kept per primary origin.
    String catalogKey = CATALOG_DOC + "@" + origins.getFirst().describe();
    String sequenceKey = SEQUENCE_DOC + "@" + origins.getFirst().describe();
    byte[] seen = store.document(sequenceKey).orElse(null);
    if (seen != null && seen.length != 8) {
      throw new IOException("cache " + store.directory() + ": damaged " + sequenceKey + " (" + seen.length
          + " bytes); delete the cache directory to start afresh");
    }
    long lastSeen = seen == null ? -1L : ByteBuffer.wrap(seen).getLong();
    List<String> failures = new ArrayList<>();
    for (Origin o : origins) {
      try {
        byte[] signed = o.get(OriginLayout.CATALOG, CatalogCodec.MAX_CATALOG_BYTES);
        Catalog c = Documents.openCatalog(signed, trust, lastSeen, clock.instant());
        store.putDocument(catalogKey, signed);
        store.putDocument(sequenceKey, ByteBuffer.allocate(8).putLong(c.sequence()).array());
        return new Archive(c, o.describe(), trust, store, fetcher, loader(store, source, config, background), config, clock);
      } catch (IOException e) {
        failures.add(why(o, e));
      }
    }
    var cached = store.document(catalogKey);
    if (cached.isEmpty()) {
      throw new IOException("no catalog: " + String.join("; ", failures));
    }
    Catalog c;
    try {
      c = Documents.openCatalog(cached.get(), trust, lastSeen, clock.instant());
    } catch (FormatException e) {
      throw new IOException("no usable catalog: " + String.join("; ", failures) + "; cached copy: " + e.getMessage(), e);
    }
    LOG.log(System.Logger.Level.WARNING, "no origin answered (" + String.join("; ", failures)
        + "); using the cached catalog, sequence " + c.sequence());
    return new Archive(c, "cache " + store.directory(), trust, store, fetcher, loader(store, source, config, background), config, clock);
  }

  /** One failure of an origin for a message: origin errors name their origin already, format errors do not. */
  private static String why(Origin o, IOException e) {
    return e instanceof OriginException ? e.getMessage() : o.describe() + ": " + e.getMessage();
  }

  private static BlockLoader loader(RocksBlockStore store, BlockSource source, FetchConfig config, Executor background) {
    // Readahead may use every connection: a demand read of a block already in flight joins that fetch.
    return new BlockLoader(store, source, background, config.connections());
  }

  public Catalog catalog() {
    return catalog;
  }

  /**
   * Asks the origins, in order, for a newer catalog and switches to the first valid one whose sequence
   * is higher than the current one's (rollback and expiry rules as at open). Returns whether the catalog
   * changed. Versions it adds are readable at once; versions it drops stay readable while their tables
   * are cached. Throws only when no origin gave a valid catalog at least as new as the current one.
   */
  public synchronized boolean refresh() throws IOException {
    Catalog current = catalog;
    List<String> failures = new ArrayList<>();
    String key = fetcher.origins().getFirst().describe();
    for (Origin o : fetcher.origins()) {
      try {
        byte[] signed = o.get(OriginLayout.CATALOG, CatalogCodec.MAX_CATALOG_BYTES);
        Catalog c = Documents.openCatalog(signed, trust, current.sequence(), clock.instant());
        if (c.sequence() == current.sequence()) {
          return false;
        }
        store.putDocument(CATALOG_DOC + "@" + key, signed);
        store.putDocument(SEQUENCE_DOC + "@" + key, ByteBuffer.allocate(8).putLong(c.sequence()).array());
        dropDecodedOfTablesLeaving(current, c);
        catalog = c;
        catalogSource = o.describe();
        LOG.log(System.Logger.Level.INFO, "catalog sequence " + c.sequence() + " from " + o.describe() + ": "
            + c.entries().size() + " versions");
        return true;
      } catch (IOException e) {
        failures.add(why(o, e));
      }
    }
    throw new IOException("catalog refresh failed: " + String.join("; ", failures));
  }

  /**
   * A table the new catalog no longer lists (its version removed, or replaced by another table) takes its
   * decoded tier files with it. Its blocks stay in the block cache until evicted; a reader already open on
   * it keeps working from there.
   */
  private void dropDecodedOfTablesLeaving(Catalog before, Catalog after) {
    var kept = new HashSet<String>();
    for (Catalog.Entry e : after.entries()) {
      kept.add(HexFormat.of().formatHex(e.tableDigest()));
    }
    for (Catalog.Entry e : before.entries()) {
      if (!kept.contains(HexFormat.of().formatHex(e.tableDigest()))) {
        store.decoded().remove(e.tableDigest());
      }
    }
  }

  /** Where the catalog came from: an origin, or the cache when no origin answered. */
  public String catalogSource() {
    return catalogSource;
  }

  /** Every version the catalog lists, retired ones included (they stay readable). */
  public List<Catalog.Entry> versions() {
    return catalog.entries();
  }

  /** The verified table of a version: from the cache, or fetched, verified and cached. */
  public ImageTable table(Catalog.Entry entry) throws IOException {
    // Keyed by the table's SHA-256 (from the signed catalog): content-addressed, so archives never collide.
    String key = "table/" + HexFormat.of().formatHex(entry.tableDigest());
    var cached = store.document(key);
    if (cached.isPresent()) {
      try {
        return Documents.openTable(cached.get(), entry, trust, clock.instant());
      } catch (FormatException e) {
        LOG.log(System.Logger.Level.WARNING, "cached " + key + " is stale or damaged (" + e.getMessage() + "); refetching");
      }
    }
    List<String> failures = new ArrayList<>();
    for (Origin o : fetcher.origins()) {
      try {
        byte[] signed = o.get(OriginLayout.table(entry.name(), entry.version()), TableCodec.MAX_TABLE_BYTES);
        ImageTable t = Documents.openTable(signed, entry, trust, clock.instant());
        store.putDocument(key, signed);
        return t;
      } catch (IOException e) {
        failures.add(why(o, e));
      }
    }
    throw new IOException("table " + entry.id() + " unavailable: " + String.join("; ", failures));
  }

  /** The reader of "image:version"; one shared instance per version. */
  public ImageReader reader(String imageVersion) throws IOException {
    Catalog.Entry entry;
    try {
      entry = catalog.require(imageVersion);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    return reader(entry);
  }

  /**
   * The reader of {@code entry}; one shared instance per version and table. Keyed by the table's SHA-256
   * as well as the name: a version replaced on the origin ({@code publish --force}) is another table, so
   * it gets its own reader and never the bytes of the one it replaced.
   */
  public ImageReader reader(Catalog.Entry entry) throws IOException {
    String key = readerKey(entry);
    ImageReader r = readers.get(key);
    if (r != null) {
      return r;
    }
    // The first readers of a version arrive together (NBD clients and a boot right after start): one of
    // them loads the table, which may mean a fetch and a flush of the cache, and the others wait for it.
    // A failure is not kept: the next caller tries again.
    synchronized (loading.computeIfAbsent(key, k -> new Object())) {
      r = readers.get(key);
      if (r == null) {
        ImageTable t = table(entry);
        r = new ImageReader(t, loader, config.readahead(), store.config().decodedBytes(),
            store.decoded().file(entry.tableDigest(), t.blockSize(), t.image().length()));
        readers.put(key, r);
      }
      return r;
    }
  }

  private static String readerKey(Catalog.Entry entry) {
    return entry.id() + "@" + HexFormat.of().formatHex(entry.tableDigest());
  }

  public BlockLoader blocks() {
    return loader;
  }

  public RocksBlockStore store() {
    return store;
  }

  public FetchConfig fetchConfig() {
    return config;
  }
}
