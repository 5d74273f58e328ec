package org.oscircular.node.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.node.publish.CatalogEditor;
import org.oscircular.protocol.format.Catalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "resign", mixinStandardHelpOptions = true,
    description = "Re-sign the catalog unchanged with a new expiry (sequence + 1); run it before the catalog expires.")
final class ResignCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory.")
  Path origin;

  @Mixin SignerOptions signer;

  @Override
  public Integer call() throws Exception {
    var privateKey = signer.privateKey();
    var store = OriginStore.open(origin, false);
    try (var lock = store.lock()) {
      var editor = new CatalogEditor(store, privateKey, Clock.systemUTC(), signer.catalogValidity());
      Catalog cat = editor.current();
      Catalog next = editor.write(cat, cat.entries());
      var w = spec.commandLine().getOut();
      w.println("re-signed the catalog of " + origin + ": sequence " + next.sequence() + ", valid until "
          + next.expires().truncatedTo(ChronoUnit.SECONDS));
      w.flush();
    }
    return 0;
  }
}
