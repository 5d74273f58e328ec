package org.oscircular.node.cli;

import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import org.oscircular.protocol.format.Catalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "images", mixinStandardHelpOptions = true,
    description = "List the images and versions an origin serves (a directory or an http(s):// URL).")
final class ImagesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory or base URL.")
  String origin;

  @Override
  public Integer call() throws Exception {
    try (var c = client.open(origin)) {
      Catalog cat = c.catalog();
      var w = spec.commandLine().getOut();
      w.printf("%-24s %-16s %12s  %-20s %s%n", "IMAGE", "VERSION", "SIZE", "CREATED", "STATUS");
      for (Catalog.Entry e : cat.entries()) {
        w.printf("%-24s %-16s %12s  %-20s %s%n", e.name(), e.version(), Sizes.bytes(e.imageLength()),
            e.created().truncatedTo(ChronoUnit.SECONDS), e.retired() ? "retired" : "live");
      }
      w.println("catalog sequence " + cat.sequence() + ", valid until " + cat.expires().truncatedTo(ChronoUnit.SECONDS)
          + ", " + cat.entries().size() + " version(s)");
      w.flush();
    }
    return 0;
  }
}
