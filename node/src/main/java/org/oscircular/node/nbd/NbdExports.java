package org.oscircular.node.nbd;

import java.util.List;
import java.util.Optional;

/**
 * The set of exports a server offers. Both methods are called on the server's event loop while
 * a client negotiates, so they must answer from memory (load catalogs before or beside the
 * server, never inside these calls).
 */
public interface NbdExports {

  /** Every export, in the order {@code NBD_OPT_LIST} reports them. */
  List<NbdExport> list();

  /** The export with exactly this name, if any. */
  default Optional<NbdExport> find(String name) {
    return list().stream().filter(e -> e.name().equals(name)).findFirst();
  }

  /** A fixed set of exports. */
  static NbdExports of(List<? extends NbdExport> exports) {
    List<NbdExport> copy = List.copyOf(exports);
    return () -> copy;
  }
}
