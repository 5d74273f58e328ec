package org.oscircular.node.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "unpin", mixinStandardHelpOptions = true,
    description = "Let a pinned image version's blocks be evicted again (they stay cached until space is needed).")
final class UnpinCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ArchiveOptions options;

  @Parameters(index = "0", paramLabel = "IMAGE:VERSION", description = "A pinned version, e.g. debian:12.8.")
  String id;

  @Override
  public Integer call() throws Exception {
    try (var store = options.openStore()) {
      if (!store.unpin(id)) {
        throw new IllegalArgumentException(id + " is not pinned in " + store.directory()
            + " (pinned: " + (store.pinnedImages().isEmpty() ? "none" : String.join(", ", store.pinnedImages())) + ")");
      }
      spec.commandLine().getOut().println("unpinned " + id);
      return 0;
    }
  }
}
