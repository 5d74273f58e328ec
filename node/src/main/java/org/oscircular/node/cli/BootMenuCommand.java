package org.oscircular.node.cli;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.boot.BootImages;
import org.oscircular.node.boot.BootMenu;
import org.oscircular.node.fetch.Origin;
import org.oscircular.node.fetch.Sleeper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code circular boot-menu}: prints the iPXE menu a node serving ORIGIN would hand out. */
@Command(name = "boot-menu", mixinStandardHelpOptions = true,
    description = {"Print the iPXE boot menu for ORIGIN's bootable versions (those with a kernel).",
        "It is the menu 'circular nbd ORIGIN --http …' serves at /boot/menu.ipxe."})
final class BootMenuCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin ArchiveOptions options;

  @Parameters(index = "0", paramLabel = "ORIGIN",
      description = "Origin directory or base URL; mirrors comma-separated.")
  String origin;

  @Option(names = "--node", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
      description = "The node's HTTP address as machines reach it (default: ${DEFAULT-VALUE}).")
  String node;

  @Option(names = "--nbd-port", paramLabel = "PORT", defaultValue = "10809",
      description = "The node's NBD port (default: ${DEFAULT-VALUE}).")
  int nbdPort;

  @Option(names = "--default", paramLabel = "IMAGE:VERSION",
      description = "Entry chosen after the timeout (default: the newest version).")
  String preselect;

  @Override
  public Integer call() throws Exception {
    Logs.oneLine();
    var fetch = options.fetchConfig();
    List<Origin> origins = ArchiveOptions.origins(origin, fetch);
    try (var store = options.openStore(); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var archive = Archive.open(origins, store, options.trustedKeys(), fetch,
          InstantSource.system(), Sleeper.SYSTEM, pool);
      var host = HostPort.parse(node);
      var bootable = new BootImages(archive).versions();
      if (preselect != null && bootable.stream().noneMatch(v -> v.id().equals(preselect))) {
        // The HTTP menu falls back to the newest version for an unknown ?default= (a machine must still boot);
        // typed here, it is a mistake to report.
        throw new IllegalArgumentException("--default " + preselect + " is not a bootable version (bootable: "
            + (bootable.isEmpty() ? "none" : String.join(", ", bootable.stream().map(v -> v.id()).toList())) + ")");
      }
      String menu = BootMenu.render(bootable,
          new BootMenu.Node("http://" + node, host.getHostString(), nbdPort),
          Optional.ofNullable(preselect), Duration.ofSeconds(5));
      spec.commandLine().getOut().print(menu);
      spec.commandLine().getOut().flush();
      return 0;
    } finally {
      origins.forEach(Origin::close);
    }
  }
}
