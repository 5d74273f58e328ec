package org.oscircular.node.cli;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.Callable;
import org.oscircular.node.config.NodeConfig;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.IdentityFile;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code circular id}: this node's libp2p peer id and the addresses peers reach it at. */
@Command(name = "id", mixinStandardHelpOptions = true,
    description = "Print this node's libp2p peer id and listen addresses (creates the identity key on first use).")
final class IdCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Node data directory holding identity.key (default: node.data-dir, /var/lib/circular).")
  Path dataDir;

  @Option(names = "--listen", paramLabel = "MULTIADDR", split = ",",
      description = "Listen addresses (default: p2p.listen, /ip4/0.0.0.0/tcp/4001).")
  List<String> listen;

  @Override
  public Integer call() throws Exception {
    NodeConfig defaults = NodeConfig.defaults();
    Path dir = dataDir != null ? dataDir : Path.of(defaults.string("node.data-dir"));
    IdentityKey key = IdentityFile.loadOrCreate(dir, new SecureRandom());
    var out = spec.commandLine().getOut();
    out.println("peer id: " + key.peerId());
    out.println("peer id (CIDv1): " + key.peerId().toCidString());
    out.println("listen addresses:");
    for (String l : listen != null ? listen : defaults.list("p2p.listen")) {
      for (Multiaddr a : Host.expandWildcard(Multiaddr.parse(l))) {
        out.println("  " + a.withPeerId(key.peerId()));
      }
    }
    out.flush();
    return 0;
  }
}
