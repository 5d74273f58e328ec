package org.oscircular.node.daemon;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.exchange.BlockProvider;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.ImageTable;

/**
 * Serves peers out of the node's archive: a cached block always; a block this node is the designated
 * fetcher of (or any block, on a seed) is loaded through the node's own read path first. Only blocks of
 * image versions in the verified catalog are served, each verified against its signed entry.
 */
final class ArchiveBlockProvider implements BlockProvider {
  private static final System.Logger LOG = System.getLogger(ArchiveBlockProvider.class.getName());
  private final Archive archive;
  private final Predicate<BlockName> fetchThrough;
  private volatile Map<BlockName, BlockEntry.Stored> index = Map.of();

  ArchiveBlockProvider(Archive archive, Predicate<BlockName> fetchThrough) {
    this.archive = archive;
    this.fetchThrough = fetchThrough;
  }

  /** Indexes every block of every version in the catalog (tables come from the cache or the origins). */
  void refreshIndex() {
    Map<BlockName, BlockEntry.Stored> next = new HashMap<>();
    for (Catalog.Entry e : archive.versions()) {
      try {
        ImageTable t = archive.table(e);
        add(next, t.image());
        t.attachments().values().forEach(b -> add(next, b));
      } catch (IOException ex) {
        LOG.log(System.Logger.Level.WARNING, "cannot index " + e.id() + " for peers: " + ex.getMessage());
      }
    }
    index = Map.copyOf(next);
  }

  private static void add(Map<BlockName, BlockEntry.Stored> into, Blob blob) {
    for (BlockEntry b : blob.blocks()) {
      if (b instanceof BlockEntry.Stored s) {
        into.putIfAbsent(s.name(), s);
      }
    }
  }

  @Override
  public boolean has(BlockName name) {
    return index.containsKey(name) && archive.store().contains(name);
  }

  @Override
  public Optional<byte[]> serve(BlockName name, Runnable loading) throws IOException {
    BlockEntry.Stored entry = index.get(name);
    if (entry == null) {
      return Optional.empty();
    }
    Optional<byte[]> data = archive.store().getForUpload(entry);
    if (data.isEmpty() && fetchThrough.test(name)) {
      loading.run();
      data = Optional.of(archive.blocks().load(entry).stored());
    }
    return data;
  }
}
