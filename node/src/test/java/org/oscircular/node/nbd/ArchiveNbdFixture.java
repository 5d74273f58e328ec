package org.oscircular.node.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.FetchConfig;

/**
 * A block cache, archives over a published origin directory and an NBD server on loopback serving them,
 * as the NBD tests need them; {@link #close} stops the server and the executors and closes the cache.
 */
final class ArchiveNbdFixture implements AutoCloseable {
  final RocksBlockStore store;
  final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
  final ExecutorService reads;
  private NbdServer server;

  /** A cache in {@code cacheDir}; the server hands reads that may block to {@code reads}. */
  ArchiveNbdFixture(Path cacheDir, CacheConfig cache, ExecutorService reads) throws IOException {
    this.store = RocksBlockStore.open(cacheDir, cache);
    this.reads = reads;
  }

  /** A fresh archive of {@code origin}'s directory over this cache (as after a restart of the process). */
  Archive archive(OriginFixture origin, FetchConfig fetch) throws IOException {
    return origin.archive(store, fetch, background);
  }

  /** Serves {@code exports}, after stopping a server this fixture started before; returns its base URI. */
  String serve(NbdExports exports) throws IOException {
    if (server != null) {
      server.close();
    }
    server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), exports, reads, 1);
    return "nbd://127.0.0.1:" + server.address().getPort() + "/";
  }

  InetSocketAddress address() {
    return server.address();
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      server.close();
    }
    reads.shutdownNow();
    background.shutdownNow();
    background.awaitTermination(10, TimeUnit.SECONDS);
    store.close();
  }
}
