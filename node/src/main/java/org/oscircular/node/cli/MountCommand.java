package org.oscircular.node.cli;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.CatalogPoller;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.fuse.ArchiveMount;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "mount", mixinStandardHelpOptions = true,
    description = {"Mount the archive read-only as MOUNTPOINT/<image>/<version>.img, fetching blocks on demand.",
        "Stays in the foreground; SIGINT or SIGTERM unmounts. Cached images work with no network.",
        "Versions published later appear within catalog.refresh-interval (default 5m; --set to change)."})
final class MountCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ArchiveOptions options;

  @Parameters(index = "0", paramLabel = "ORIGIN",
      description = "Origin directory or base URL; mirrors separated by commas, tried in order.")
  String origin;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing empty directory.")
  Path mountPoint;

  @Override
  public Integer call() throws Exception {
    Logs.oneLine();
    ArchiveMount.checkMountPoint(mountPoint); // before the cache and the network: a typo fails at once
    var fetch = options.fetchConfig();
    List<Origin> origins = ArchiveOptions.origins(origin, fetch);
    var trust = options.trustedKeys();
    var refresh = options.nodeConfig().duration("catalog.refresh-interval");
    ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("catalog-poll").factory());
    RocksBlockStore store = options.openStore();
    ArchiveMount mounted;
    try {
      var archive = Archive.open(origins, store, trust, fetch, InstantSource.system(), Sleeper.SYSTEM, background);
      mounted = ArchiveMount.mount(archive, mountPoint, background, InstantSource.system(), Sleeper.SYSTEM);
      final ArchiveMount m = mounted;
      CatalogPoller.start(archive, refresh, timer, m::catalogChanged);
      int n = archive.versions().size();
      spec.commandLine().getOut().printf("mounted %d image version%s of %s at %s (catalog from %s); "
              + "Ctrl-C or SIGTERM unmounts%n", n, n == 1 ? "" : "s", origin, mountPoint, archive.catalogSource());
      spec.commandLine().getOut().flush();
    } catch (Exception e) {
      timer.shutdownNow();
      background.shutdownNow();
      store.close();
      origins.forEach(Origin::close);
      throw e;
    }
    // SIGINT/SIGTERM run the shutdown hooks: unmount and close the cache there, then exit 0 (a clean stop).
    var stopped = new CountDownLatch(1);
    final ArchiveMount mount = mounted;
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("circular-unmount").unstarted(() -> {
      int code = 0;
      try {
        mount.close();
      } catch (Exception e) {
        System.err.println("circular mount: " + e.getMessage());
        code = 1;
      } finally {
        boolean unmounted = code == 0;
        timer.shutdownNow();
        background.shutdownNow();
        try {
          store.close();
        } catch (Exception e) {
          System.err.println("circular mount: closing the cache: " + e.getMessage());
          code = 1;
        }
        origins.forEach(Origin::close);
        if (unmounted) {
          System.err.println("circular mount: unmounted " + mountPoint);
        }
        System.err.flush();
        stopped.countDown();
      }
      Runtime.getRuntime().halt(code);
    }));
    stopped.await();
    return 0;
  }
}
