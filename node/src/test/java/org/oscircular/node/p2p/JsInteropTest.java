package org.oscircular.node.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.oscircular.node.testing.Await;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/** Wire compatibility with js-libp2p 3.x (tcp, noise, yamux, identify, ping) from npm, both directions. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class JsInteropTest {
  private static final int STREAMS = 4;
  private static final long PER_STREAM = 16L << 20; // 64 MiB in total

  private Host host;

  @BeforeEach
  void startHost() {
    host = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(2), new SecureRandom());
    host.registerHandler(Echo.PROTOCOL_ID, Echo::serve);
  }

  @AfterEach
  void stopHost() {
    host.close();
  }

  @Test
  void javaDialsJsPingsIdentifiesAndEchoes64MiB() throws Exception {
    try (JsPeer js = JsPeer.start("listen")) {
      JsonNode listening = js.await("listening", 30);
      PeerId jsId = PeerId.parse(listening.get("peerId").asText());
      Multiaddr addr = Multiaddr.parse(listening.get("addrs").get(0).asText());

      Connection c = host.dial(addr).get(20, TimeUnit.SECONDS);
      assertEquals(jsId, c.remotePeer());
      js.await("js sees the Java peer id", n -> n.path("event").asText().equals("connection")
          && n.path("peerId").asText().equals(host.peerId().toString()), 10);

      List<Duration> rtts = Ping.ping(c, 3, new SplittableRandom(3)).get(10, TimeUnit.SECONDS);
      assertEquals(3, rtts.size());

      PeerStore.PeerInfo info = host.identifyResult(c).get(10, TimeUnit.SECONDS);
      assertTrue(info.supports("/ipfs/ping/1.0.0") && info.supports("/ipfs/id/1.0.0") && info.supports(Echo.PROTOCOL_ID),
          info.protocols().toString());
      assertTrue(info.agentVersion().contains("libp2p"), info.agentVersion());
      JsonNode jsIdentify = js.await("js identifies the Java peer", n -> n.path("event").asText().equals("identify")
          && n.path("peerId").asText().equals(host.peerId().toString()), 10);
      assertTrue(jsIdentify.get("protocols").toString().contains(Echo.PROTOCOL_ID), jsIdentify.toString());

      List<CompletableFuture<byte[]>> echoes = new ArrayList<>();
      for (int i = 0; i < STREAMS; i++) {
        echoes.add(Echo.exchange(c.openStream(Echo.PROTOCOL_ID).get(10, TimeUnit.SECONDS), i, PER_STREAM));
      }
      for (int i = 0; i < STREAMS; i++) {
        assertArrayEquals(Echo.expectedDigest(i, PER_STREAM), echoes.get(i).get(120, TimeUnit.SECONDS), "stream " + i);
      }
    }
  }

  @Test
  void cliPingReachesAJsPeer() throws Exception {
    try (JsPeer js = JsPeer.start("listen")) {
      String addr = js.await("listening", 30).get("addrs").get(0).asText();
      java.io.StringWriter out = new java.io.StringWriter();
      java.io.StringWriter err = new java.io.StringWriter();
      var cl = org.oscircular.node.cli.CircularCli.commandLine();
      cl.setOut(new java.io.PrintWriter(out));
      cl.setErr(new java.io.PrintWriter(err));
      assertEquals(0, cl.execute("ping", addr, "-c", "3"), err.toString());
      assertTrue(out.toString().contains("connected to " + Multiaddr.parse(addr).peerId().orElseThrow()), out.toString());
      assertEquals(3, out.toString().lines().filter(l -> l.matches("ping \\d+: time=[0-9.]+ ms")).count(), out.toString());
    }
  }

  @Test
  void jsDialsJavaPingsIdentifiesAndEchoes64MiB() throws Exception {
    Multiaddr addr = host.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).withPeerId(host.peerId());
    try (JsPeer js = JsPeer.start("dial", addr.toString(), Integer.toString(STREAMS), Long.toString(PER_STREAM))) {
      PeerId jsId = PeerId.parse(js.await("started", 30).get("peerId").asText());
      assertEquals(host.peerId().toString(), js.await("dialled", 30).get("peerId").asText());
      Await.atMost(Duration.ofSeconds(10)).until("the host to list the js peer as connected",
          host::connectedPeers, peers -> peers.contains(jsId));

      JsonNode ping = js.await("ping", 30);
      assertEquals(3, ping.get("rtts").size());
      JsonNode jsIdentify = js.await("js identifies the Java peer", n -> n.path("event").asText().equals("identify")
          && n.path("peerId").asText().equals(host.peerId().toString()), 10);
      assertTrue(jsIdentify.get("protocols").toString().contains(Echo.PROTOCOL_ID), jsIdentify.toString());
      assertTrue(jsIdentify.get("listenAddrs").toString().contains(addr.withoutPeerId().toString()), jsIdentify.toString());

      Connection c = host.connections(jsId).getFirst();
      PeerStore.PeerInfo info = host.identifyResult(c).get(10, TimeUnit.SECONDS);
      assertTrue(info.supports(Echo.PROTOCOL_ID), info.protocols().toString());

      JsonNode echo = js.await("echo", 150);
      assertTrue(echo.get("ok").asBoolean(), echo.toString());
      assertEquals(STREAMS, echo.get("results").size());
      assertEquals(0, js.waitFor(30), js.stderr());
    }
  }
}
