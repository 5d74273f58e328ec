package org.oscircular.node.p2p;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.NetnsLab;

/**
 * {@code circular node} with the wildcard pair {@code /ip4/0.0.0.0} and {@code /ip6/::} on one port, as libp2p
 * users write it: on Linux the first wildcard listener is a dual-stack socket on {@code [::]}, so the second
 * must be recognised as served by it rather than bound again ("address already in use"). Runs in a network
 * namespace of its own, so the wildcard binds never touch this machine's network.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DualStackListenNetnsTest {
  @TempDir static Path dir;
  static NetnsLab lab;
  static Path origin;

  @BeforeAll
  static void namespaceAndOrigin() throws Exception {
    NetnsLab.requireRoot();
    // A node starts only with a catalog to serve: a tiny published image in a directory origin.
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    Files.write(dir.resolve("a.img"), new byte[4 * 4096]);
    origin = dir.resolve("origin");
    CliRun.run("publish", dir.resolve("a.img").toString(), "--name", "a", "--version", "1", "--origin",
        origin.toString(), "--key", dir.resolve("k").toString(), "--block-size", "4K", "--quiet").ok();
    lab = NetnsLab.create("dual", 2);
    // The sockets are made dual-stack whatever this says (IPV6_V6ONLY off), so the second wildcard is served
    // there too; host 1 checks that, so the pair never quietly loses IPv4 where the system default is v6-only.
    lab.host(1).run("sysctl", "-w", "net.ipv6.bindv6only=1");
  }

  @AfterAll
  static void removeNamespace() {
    if (lab != null) {
      lab.close();
    }
  }

  @ParameterizedTest(name = "p2p.listen = {0}, {1}; net.ipv6.bindv6only = {2}")
  @CsvSource({
      "/ip4/0.0.0.0/tcp/4001, /ip6/::/tcp/4001, 0",
      "/ip6/::/tcp/4002, /ip4/0.0.0.0/tcp/4002, 0",
      "/ip4/0.0.0.0/tcp/4003, /ip6/::/tcp/4003, 1"})
  void aNodeListeningOnBothWildcardsOfOnePortComesUpAndAnswersOverIpv4AndIpv6(String first, String second,
      int bindv6only) throws Exception {
    NetnsLab.Host host = lab.host(bindv6only);
    int port = Integer.parseInt(first.substring(first.lastIndexOf('/') + 1));
    Path data = dir.resolve("node-" + port);
    String peerId = IdentityFile.loadOrCreate(data, new SecureRandom()).peerId().toString();
    Path conf = dir.resolve("node-" + port + ".conf");
    Files.write(conf, List.of(
        "node.data-dir = " + data,
        "origins = " + origin,
        "trust.file = " + dir.resolve("k.pub"),
        "p2p.listen = " + first + ", " + second,
        "kad.mode = client",
        "mdns.enabled = false",
        "nbd.listen =",
        "metrics.listen ="));
    Path log = dir.resolve("node-" + port + ".log");
    Process node = host.start(circular("node", "--config", conf.toString()), log);
    try {
      pingBothFamilies(host, node, log, port, peerId, second);
    } finally {
      node.destroy();
      node.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static void pingBothFamilies(NetnsLab.Host host, Process node, Path log, int port, String peerId,
      String second) throws Exception {
    String started = Await.atMost(Duration.ofSeconds(30)).every(Duration.ofMillis(100)).until("the node to come up",
        () -> {
          String text = Files.exists(log) ? Files.readString(log) : "";
          if (!node.isAlive() && !text.contains(" up; listening on ")) {
            throw new AssertionError("the node exited with " + node.exitValue() + ":\n" + text);
          }
          return text;
        }, text -> text.contains(" up; listening on "));
    assertThat(started).contains(second + " is already served by the dual-stack listener");

    String listed = started.lines().filter(l -> l.contains(" up; listening on ")).findFirst().orElseThrow();
    List<String> addresses =
        Arrays.asList(listed.substring(listed.indexOf('[') + 1, listed.lastIndexOf(']')).split(", "));
    assertThat(addresses).doesNotHaveDuplicates()
        .contains("/ip4/127.0.0.1/tcp/" + port, "/ip6/::1/tcp/" + port, "/ip4/" + host.ip() + "/tcp/" + port);

    for (String loopback : List.of("/ip4/127.0.0.1", "/ip6/::1")) {
      String target = loopback + "/tcp/" + port + "/p2p/" + peerId;
      String out = host.run(circular("ping", target, "--count", "1", "--timeout", "10s").toArray(String[]::new));
      assertThat(out).as("ping %s", target).contains("connected to " + peerId).contains("1 pings: min");
    }
    assertThat(node.isAlive()).as("the node still runs").isTrue();
  }

  private static List<String> circular(String... args) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        "org.oscircular.node.cli.CircularCli"));
    command.addAll(List.of(args));
    return command;
  }
}
