package org.oscircular.node.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import org.oscircular.node.origin.AtomicFiles;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.CatalogCodec;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.SignedDocument;
import org.oscircular.protocol.format.TrustedKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "gc", mixinStandardHelpOptions = true,
    description = "Delete blocks that no live (non-retired) version uses; never one that a live version uses.")
final class GcCommand implements Callable<Integer> {
  /** Temporary files this old are leftovers of a crashed write. */
  static final Duration STALE_TEMP = Duration.ofHours(1);

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory.")
  Path origin;

  @Option(names = {"-n", "--dry-run"}, description = "Only print what would be deleted.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    var store = OriginStore.open(origin, false);
    var w = spec.commandLine().getOut();
    try (var lock = store.lock()) {
      Set<BlockName> live = liveBlocks(store);
      int kept = 0;
      int deleted = 0;
      long freed = 0;
      Instant staleBefore = Instant.now().minus(STALE_TEMP);
      for (OriginStore.BlockFile f : store.listBlocks()) {
        boolean stray = f.name().isEmpty();
        if (stray && !(f.path().getFileName().toString().startsWith(AtomicFiles.TEMP_PREFIX)
            && Files.getLastModifiedTime(f.path()).toInstant().isBefore(staleBefore))) {
          w.println("leaving unknown file " + f.path() + " alone");
          continue;
        }
        if (!stray && live.contains(f.name().get())) {
          kept++;
          continue;
        }
        if (dryRun) {
          w.println("would delete " + origin.relativize(f.path()));
        } else {
          Files.deleteIfExists(f.path());
        }
        deleted++;
        freed += f.size();
      }
      w.println((dryRun ? "gc (dry run): would delete " : "gc: deleted ") + deleted + " block file(s) ("
          + Sizes.bytes(freed) + "), kept " + kept + " used by live versions");
      w.flush();
    }
    return 0;
  }

  /**
   * Every block a live version's table names. Any catalog or table that cannot be read stops gc before
   * it deletes anything.
   */
  static Set<BlockName> liveBlocks(OriginStore store) throws IOException {
    var keys = store.publicKeys();
    if (keys.isEmpty()) {
      throw new IOException("origin " + store.root() + " has no keys/*.pub; gc cannot check its catalog (nothing deleted)");
    }
    TrustedKeys trust = new TrustedKeys(new HashSet<>(keys));
    byte[] signed = store.readCatalog().orElseThrow(() ->
        new IOException("origin " + store.root() + " has no catalog; gc deletes nothing without one"));
    Catalog cat;
    try {
      cat = CatalogCodec.decode(SignedDocument.open(signed, SignedDocument.Kind.CATALOG, trust, "catalog").payload());
    } catch (FormatException e) {
      throw new FormatException(e.getMessage() + " (gc deleted nothing)", e);
    }
    Set<BlockName> live = new HashSet<>();
    for (Catalog.Entry e : cat.entries()) {
      if (e.retired()) {
        continue;
      }
      byte[] t = store.readTable(e.name(), e.version()).orElseThrow(() ->
          new IOException("table of live version " + e.id() + " is missing; gc deleted nothing"));
      ImageTable table;
      try {
        table = Documents.openTable(t, e, trust);
      } catch (FormatException ex) {
        throw new FormatException(ex.getMessage() + " (gc deleted nothing)", ex);
      }
      addAll(table.image(), live);
      table.attachments().values().forEach(b -> addAll(b, live));
    }
    return live;
  }

  private static void addAll(Blob b, Set<BlockName> live) {
    for (BlockEntry be : b.blocks()) {
      if (be instanceof BlockEntry.Stored s) {
        live.add(s.name());
      }
    }
  }
}
