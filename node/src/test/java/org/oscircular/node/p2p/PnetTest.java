package org.oscircular.node.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;
import org.oscircular.protocol.p2p.PreSharedKey;

/** Private networks (libp2p pnet): only hosts holding the same pre-shared key can connect. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PnetTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final List<Host> hosts = new ArrayList<>();
  private final List<String> logLines = new ArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord r) {
      synchronized (logLines) {
        logLines.add(new java.util.logging.SimpleFormatter().formatMessage(r));
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void captureLogs() {
    Logger.getLogger("org.oscircular.node.p2p").addHandler(capture);
  }

  @AfterEach
  void closeHosts() {
    hosts.forEach(Host::close);
    Logger.getLogger("org.oscircular.node.p2p").removeHandler(capture);
  }

  private Host newHost(PreSharedKey psk) {
    Host h = new Host(IdentityKey.generate(RANDOM), HostConfig.defaults().withIoThreads(1).withPsk(psk), RANDOM);
    h.registerHandler(Echo.PROTOCOL_ID, Echo::serve);
    hosts.add(h);
    return h;
  }

  private static Multiaddr listen(Host h) throws Exception {
    return h.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).withPeerId(h.peerId());
  }

  @Test
  void hostsWithTheSameKeyConnectAndEcho() throws Exception {
    PreSharedKey psk = PreSharedKey.generate(RANDOM);
    Host server = newHost(psk);
    Host client = newHost(psk);
    Connection c = client.dial(listen(server)).get(10, TimeUnit.SECONDS);
    assertEquals(server.peerId(), c.remotePeer());

    List<CompletableFuture<byte[]>> echoes = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      echoes.add(Echo.exchange(c.openStream(Echo.PROTOCOL_ID).get(10, TimeUnit.SECONDS), i, 2L << 20));
    }
    for (int i = 0; i < 2; i++) {
      assertArrayEquals(Echo.expectedDigest(i, 2L << 20), echoes.get(i).get(30, TimeUnit.SECONDS));
    }
    assertEquals(3, Ping.ping(c, 3, new SplittableRandom(1)).get(10, TimeUnit.SECONDS).size());
  }

  @Test
  void aHostWithAnotherKeyCannotConnect() throws Exception {
    PreSharedKey campus = PreSharedKey.generate(RANDOM);
    Host server = newHost(campus);
    Multiaddr addr = listen(server);
    Host stranger = newHost(PreSharedKey.generate(RANDOM));

    assertThrows(ExecutionException.class, () -> stranger.dial(addr).get(10, TimeUnit.SECONDS));
    assertLogged("private network " + campus.fingerprint());
    assertEquals(0, server.connectionCount());
    // the server still serves its own network
    assertEquals(server.peerId(), newHost(campus).dial(addr).get(10, TimeUnit.SECONDS).remotePeer());
  }

  @Test
  void publicAndPrivateHostsCannotConnectEitherWay() throws Exception {
    PreSharedKey psk = PreSharedKey.generate(RANDOM);
    Host privateHost = newHost(psk);
    Host publicHost = newHost(null);
    Multiaddr privateAddr = listen(privateHost);
    Multiaddr publicAddr = listen(publicHost);

    assertThrows(ExecutionException.class, () -> publicHost.dial(privateAddr).get(10, TimeUnit.SECONDS));
    assertLogged("closing connection from");
    assertThrows(ExecutionException.class, () -> privateHost.dial(publicAddr).get(10, TimeUnit.SECONDS));
    assertLogged("multistream-select failed");
    assertEquals(0, privateHost.connectionCount() + publicHost.connectionCount());
  }

  @Test
  void javaAndJsLibp2pShareAPrivateNetworkBothWays(@TempDir Path dir) throws Exception {
    PreSharedKey psk = PreSharedKey.generate(RANDOM);
    Path keyFile = dir.resolve("swarm.key");
    Files.write(keyFile, psk.toFile());
    Host host = newHost(SwarmKeyFile.read(keyFile));

    try (JsPeer js = JsPeer.start(Map.of("PSK_FILE", keyFile.toString()), "listen")) {
      JsonNode listening = js.await("listening", 30);
      Connection c = host.dial(Multiaddr.parse(listening.get("addrs").get(0).asText())).get(20, TimeUnit.SECONDS);
      assertEquals(PeerId.parse(listening.get("peerId").asText()), c.remotePeer());
      assertEquals(2, Ping.ping(c, 2, new SplittableRandom(2)).get(10, TimeUnit.SECONDS).size());
      assertArrayEquals(Echo.expectedDigest(9, 4L << 20),
          Echo.exchange(c.openStream(Echo.PROTOCOL_ID).get(10, TimeUnit.SECONDS), 9, 4L << 20).get(60, TimeUnit.SECONDS));
    }

    Multiaddr addr = listen(host);
    try (JsPeer js = JsPeer.start(Map.of("PSK_FILE", keyFile.toString()), "dial", addr.toString(), "2", Long.toString(2L << 20))) {
      assertEquals(host.peerId().toString(), js.await("dialled", 30).get("peerId").asText());
      JsonNode echo = js.await("echo", 60);
      assertTrue(echo.get("ok").asBoolean(), echo.toString());
      assertEquals(0, js.waitFor(30), js.stderr());
    }
  }

  @Test
  void jsLibp2pWithAnotherKeyCannotConnect(@TempDir Path dir) throws Exception {
    Path keyFile = dir.resolve("swarm.key");
    Files.write(keyFile, PreSharedKey.generate(RANDOM).toFile());
    Host host = newHost(PreSharedKey.generate(RANDOM));
    try (JsPeer js = JsPeer.start(Map.of("PSK_FILE", keyFile.toString()), "listen")) {
      Multiaddr addr = Multiaddr.parse(js.await("listening", 30).get("addrs").get(0).asText());
      assertThrows(ExecutionException.class, () -> host.dial(addr).get(20, TimeUnit.SECONDS));
    }
    assertLogged("does the peer use the same p2p.psk-file?");
  }

  @Test
  void cliPingReachesAPrivateHostOnlyWithItsKeyFile(@TempDir Path dir) throws Exception {
    PreSharedKey psk = PreSharedKey.generate(RANDOM);
    Path keyFile = Files.write(dir.resolve("swarm.key"), psk.toFile());
    Multiaddr addr = listen(newHost(psk));

    java.io.StringWriter out = new java.io.StringWriter();
    var cl = org.oscircular.node.cli.CircularCli.commandLine();
    cl.setOut(new java.io.PrintWriter(out));
    cl.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
    assertEquals(0, cl.execute("ping", addr.toString(), "-c", "2", "--psk-file", keyFile.toString()), out.toString());
    assertEquals(2, out.toString().lines().filter(l -> l.matches("ping \\d+: time=[0-9.]+ ms")).count(), out.toString());
    assertTrue(cl.execute("ping", addr.toString(), "-c", "1", "--timeout", "5s") != 0, "without the key the ping fails");
  }

  @Test
  void aMissingOrBrokenKeyFileIsReportedWithItsPath(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("none.key");
    java.io.IOException e = assertThrows(java.io.IOException.class, () -> SwarmKeyFile.read(missing));
    assertEquals("p2p.psk-file " + missing + " does not exist", e.getMessage());
    Path broken = Files.writeString(dir.resolve("broken.key"), "/key/swarm/psk/1.0.0/\n/base16/\nabcd\n");
    e = assertThrows(java.io.IOException.class, () -> SwarmKeyFile.read(broken));
    assertTrue(e.getMessage().startsWith("p2p.psk-file " + broken + ": swarm key must be 64 hex digits"), e.getMessage());
  }

  private void assertLogged(String fragment) throws InterruptedException {
    Await.atMost(Duration.ofSeconds(10)).until("a log line with '" + fragment + "'", () -> {
      synchronized (logLines) {
        return List.copyOf(logLines);
      }
    }, lines -> lines.stream().anyMatch(l -> l.contains(fragment)));
  }
}
