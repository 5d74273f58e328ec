package org.oscircular.node.archive;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.ImageTable;

/**
 * Pins an image version: records the pin first (so its blocks are never evicted), then loads every
 * missing block of the image and its attachments. Interrupted or failed runs are resumed by running
 * again: blocks already cached are skipped. Returns only once the pin and the blocks are on disk (a
 * crash afterwards keeps them).
 */
public final class ImagePinner {
  private ImagePinner() {}

  /** Stored bytes and blocks of the version, and how many of them are cached now. */
  public record Progress(long doneBytes, long totalBytes, int doneBlocks, int totalBlocks) {}

  public static Progress pin(Archive archive, Catalog.Entry entry, ExecutorService workers,
      Consumer<Progress> progress) throws IOException {
    ImageTable table = archive.table(entry);
    Map<BlockName, BlockEntry.Stored> unique = new LinkedHashMap<>();
    List<Blob> blobs = new ArrayList<>();
    blobs.add(table.image());
    blobs.addAll(table.attachments().values());
    for (Blob b : blobs) {
      for (BlockEntry e : b.blocks()) {
        if (e instanceof BlockEntry.Stored s) {
          unique.putIfAbsent(s.name(), s);
        }
      }
    }
    archive.store().pin(entry.id(), unique.values());
    long total = 0;
    for (var s : unique.values()) {
      total += s.storedLength();
    }
    AtomicLong doneBytes = new AtomicLong();
    AtomicInteger doneBlocks = new AtomicInteger();
    List<BlockEntry.Stored> missing = new ArrayList<>();
    for (var s : unique.values()) {
      if (archive.blocks().isCached(s.name())) {
        doneBytes.addAndGet(s.storedLength());
        doneBlocks.incrementAndGet();
      } else {
        missing.add(s);
      }
    }
    final long totalBytes = total;
    final int totalBlocks = unique.size();
    progress.accept(new Progress(doneBytes.get(), totalBytes, doneBlocks.get(), totalBlocks));
    List<Future<?>> futures = new ArrayList<>();
    for (var s : missing) {
      futures.add(workers.submit(() -> {
        archive.blocks().load(s);
        progress.accept(new Progress(doneBytes.addAndGet(s.storedLength()), totalBytes,
            doneBlocks.incrementAndGet(), totalBlocks));
        return null;
      }));
    }
    List<String> failures = new ArrayList<>();
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (ExecutionException e) {
        failures.add(e.getCause().getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.forEach(x -> x.cancel(true));
        throw new IOException("pinning " + entry.id() + " interrupted; run it again to resume", e);
      }
    }
    // The cache writes without a WAL: the image is reported pinned (and progress kept) once on disk.
    archive.store().flush();
    if (!failures.isEmpty()) {
      throw new IOException(failures.size() + " of " + missing.size() + " blocks of " + entry.id()
          + " could not be fetched (the pin is kept; run again to resume): " + failures.getFirst());
    }
    return new Progress(doneBytes.get(), totalBytes, doneBlocks.get(), totalBlocks);
  }
}
