package org.oscircular.node.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import org.oscircular.node.origin.OriginClient;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.ImageTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Check the catalog's and every table's signature and every block a live version uses; "
        + "exit 1 naming each bad one.")
final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory or base URL.")
  String origin;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "8", description = "Parallel block checks (default: ${DEFAULT-VALUE}).")
  int parallel;

  /** Where a block is used: the first reference is enough to name it in a report. */
  private record Use(String id, String blob, int index, int plainLength, ImageTable table) {}

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    int bad = 0;
    if (parallel < 1 || parallel > 256) {
      throw new IllegalArgumentException("--parallel must be 1..256, got " + parallel);
    }
    try (var c = client.open(origin, parallel, 1)) {
      Catalog cat = c.catalog();
      Map<BlockName, List<Use>> uses = new LinkedHashMap<>();
      Map<BlockName, BlockEntry.Stored> entries = new LinkedHashMap<>();
      int tables = 0;
      for (Catalog.Entry e : cat.entries()) {
        ImageTable t;
        try {
          t = c.table(e);
          tables++;
        } catch (IOException ex) {
          err.println("bad table " + e.id() + ": " + ex.getMessage());
          bad++;
          continue;
        }
        if (e.retired()) {
          continue; // retired versions' blocks may have been collected
        }
        addUses(t, "image", t.image(), uses, entries);
        t.attachments().forEach((name, blob) -> addUses(t, name, blob, uses, entries));
      }
      long bytes = 0;
      try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
        var gate = new Semaphore(Math.max(1, parallel));
        List<Future<String>> checks = new ArrayList<>();
        for (var en : entries.entrySet()) {
          BlockEntry.Stored s = en.getValue();
          Use u = uses.get(en.getKey()).getFirst();
          bytes += s.storedLength();
          gate.acquireUninterruptibly();
          checks.add(pool.submit(() -> {
            try {
              return check(c, s, u, uses.get(s.name()));
            } finally {
              gate.release();
            }
          }));
        }
        for (Future<String> f : checks) {
          String problem;
          try {
            problem = f.get();
          } catch (ExecutionException ex) {
            problem = String.valueOf(ex.getCause());
          }
          if (problem != null) {
            err.println(problem);
            bad++;
          }
        }
      }
      if (bad > 0) {
        err.println("verify: " + bad + " problem(s) in " + origin);
        err.flush();
        return 1;
      }
      out.println("verified catalog sequence " + cat.sequence() + ", " + tables + " table(s), " + entries.size()
          + " distinct block(s) (" + Sizes.bytes(bytes) + "): all good");
      out.flush();
    }
    return 0;
  }

  private static void addUses(ImageTable t, String blobName, Blob blob, Map<BlockName, List<Use>> uses,
      Map<BlockName, BlockEntry.Stored> entries) {
    List<BlockEntry> blocks = blob.blocks();
    for (int i = 0; i < blocks.size(); i++) {
      if (blocks.get(i) instanceof BlockEntry.Stored s) {
        entries.putIfAbsent(s.name(), s);
        uses.computeIfAbsent(s.name(), k -> new ArrayList<>())
            .add(new Use(t.id(), blobName, i, blob.blockLength(i, t.blockSize()), t));
      }
    }
  }

  /** Null when the block is good, else one line naming it and where it is used. */
  private static String check(OriginClient c, BlockEntry.Stored s, Use first, List<Use> all) {
    String where = first.id() + " " + first.blob() + " block " + first.index()
        + (all.size() > 1 ? " and " + (all.size() - 1) + " other use(s)" : "");
    try {
      byte[] stored = c.block(s);
      first.table().codec().decode(stored, first.plainLength());
      return null;
    } catch (IOException e) {
      return "bad block " + s.name() + " (" + where + "): " + e.getMessage();
    }
  }
}
