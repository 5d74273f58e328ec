package org.oscircular.node.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.oscircular.node.testing.Await;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multistream;
import org.oscircular.protocol.p2p.NoiseHandshake;
import org.oscircular.protocol.p2p.X25519;
import org.oscircular.protocol.p2p.YamuxHeader;

/** A peer that sends bad bytes loses its connection, the host logs why and keeps serving others. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadPeerTest {
  private static final String SINK = "/circular/test/sink/1.0.0";

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
  private Host host;
  private Multiaddr addr;

  @BeforeEach
  void start() throws Exception {
    Logger.getLogger("org.oscircular.node.p2p").addHandler(capture);
    host = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(1), new SecureRandom());
    host.registerHandler(SINK, s -> s.setAutoRead(false)); // never consumes: the peer's window only shrinks
    host.registerHandler(Echo.PROTOCOL_ID, Echo::serve);
    addr = host.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
  }

  @AfterEach
  void stop() {
    host.close();
    Logger.getLogger("org.oscircular.node.p2p").removeHandler(capture);
  }

  @Test
  void garbageBeforeMultistreamClosesTheConnection() throws Exception {
    try (RawPeer p = new RawPeer(addr)) {
      p.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      assertTrue(p.closedByHost());
    }
    assertLogged("multistream-select failed: expected /multistream/1.0.0");
    assertHostStillServes();
  }

  @Test
  void aWrongNoiseSignatureClosesTheConnection() throws Exception {
    SecureRandom r = new SecureRandom();
    try (RawPeer p = new RawPeer(addr)) {
      p.secure(NoiseHandshake.signingOtherKey(true, IdentityKey.generate(r), X25519.generate(r), X25519.generate(r),
          X25519.generate(r).publicKey()));
      assertTrue(p.closedByHost());
    }
    assertLogged("identity signature over the static key is invalid");
    assertHostStillServes();
  }

  @Test
  void anOversizedYamuxFrameClosesTheConnection() throws Exception {
    try (RawPeer p = new RawPeer(addr)) {
      p.secureAndStartYamux();
      p.sendYamux(YamuxHeader.TYPE_DATA, YamuxHeader.FLAG_SYN, 1, 0x7FFF_FFFFL, new byte[0]);
      assertTrue(p.closedByHost());
    }
    assertLogged("DATA frame of 2147483647 bytes exceeds the receive window");
    assertHostStillServes();
  }

  @Test
  void aYamuxWindowViolationClosesTheConnection() throws Exception {
    try (RawPeer p = new RawPeer(addr)) {
      p.secureAndStartYamux();
      p.sendYamux(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, 1, 0, new byte[0]);
      byte[] mss = Multistream.dialer(List.of(SINK)).start();
      p.sendYamux(YamuxHeader.TYPE_DATA, 0, 1, mss.length, mss);
      byte[] chunk = new byte[64 * 1024];
      for (int sent = 0; sent <= host.config().yamuxReceiveWindow(); sent += chunk.length) {
        p.sendYamux(YamuxHeader.TYPE_DATA, 0, 1, chunk.length, chunk);
      }
      assertTrue(p.closedByHost());
    }
    assertLogged("flow-control violation");
    assertHostStillServes();
  }

  private void assertLogged(String fragment) throws InterruptedException {
    Await.atMost(Duration.ofSeconds(10)).until("a log line with '" + fragment + "'", () -> {
      synchronized (logLines) {
        return List.copyOf(logLines);
      }
    }, lines -> lines.stream().anyMatch(l -> l.contains(fragment)));
  }

  private void assertHostStillServes() throws Exception {
    try (Host client = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(1), new SecureRandom())) {
      Connection c = client.dial(addr.withPeerId(host.peerId())).get(10, TimeUnit.SECONDS);
      assertEquals(2, Ping.ping(c, 2, new java.util.SplittableRandom(5)).get(10, TimeUnit.SECONDS).size());
    }
  }
}
