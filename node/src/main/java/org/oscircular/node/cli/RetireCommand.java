package org.oscircular.node.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import org.oscircular.node.origin.OriginStore;
import org.oscircular.node.publish.CatalogEditor;
import org.oscircular.protocol.format.Catalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "retire", mixinStandardHelpOptions = true,
    description = "Mark a version retired in the catalog (re-signed, sequence + 1); gc may then remove its blocks.")
final class RetireCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ORIGIN", description = "Origin directory.")
  Path origin;

  @Parameters(index = "1", paramLabel = "IMAGE:VERSION", description = "The version to retire.")
  String id;

  @Option(names = "--undo", description = "Make a retired version live again.")
  boolean undo;

  @Mixin SignerOptions signer;

  @Override
  public Integer call() throws Exception {
    var privateKey = signer.privateKey();
    var store = OriginStore.open(origin, false);
    try (var lock = store.lock()) {
      var editor = new CatalogEditor(store, privateKey, Clock.systemUTC(), signer.catalogValidity());
      Catalog cat = editor.current();
      Catalog.Entry e = cat.require(id);
      var w = spec.commandLine().getOut();
      if (e.retired() != undo) {
        w.println(e.id() + " is already " + (undo ? "live" : "retired") + "; nothing to do");
        w.flush();
        return 0;
      }
      var entries = new ArrayList<>(cat.entries());
      entries.replaceAll(x -> x.equals(e) ? x.withRetired(!undo) : x);
      Catalog next = editor.write(cat, entries);
      w.println((undo ? "made " + e.id() + " live again" : "retired " + e.id()) + " (catalog sequence "
          + next.sequence() + ")" + (undo ? "" : "; run 'circular gc " + origin + "' to delete blocks only it used"));
      w.flush();
    }
    return 0;
  }
}
