package org.oscircular.node.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.oscircular.node.testing.Await;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostTest {
  private final List<Host> hosts = new ArrayList<>();

  private Host newHost() {
    Host h = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(2), new SecureRandom());
    h.registerHandler(Echo.PROTOCOL_ID, Echo::serve);
    hosts.add(h);
    return h;
  }

  @AfterEach
  void closeHosts() {
    hosts.forEach(Host::close);
  }

  @Test
  void dialAuthenticatesBothPeersAndEchoesOnConcurrentStreams() throws Exception {
    Host server = newHost();
    Host client = newHost();
    Multiaddr addr = server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));

    Connection c = client.dial(addr.withPeerId(server.peerId())).get(10, TimeUnit.SECONDS);
    assertEquals(server.peerId(), c.remotePeer());
    Await.atMost(Duration.ofSeconds(10)).every(Duration.ofMillis(10))
        .until("the server to list the client as connected", server::connectedPeers,
            peers -> peers.contains(client.peerId()));

    long perStream = 4L << 20;
    List<CompletableFuture<byte[]>> echoes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      P2pStream s = c.openStream(Echo.PROTOCOL_ID).get(10, TimeUnit.SECONDS);
      assertEquals(Echo.PROTOCOL_ID, s.protocol());
      echoes.add(Echo.exchange(s, i, perStream));
    }
    for (int i = 0; i < 4; i++) {
      assertArrayEquals(Echo.expectedDigest(i, perStream), echoes.get(i).get(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void everyDialOfARefusedPortSaysConnectionRefused() throws Exception {
    Host h = newHost();
    // bound and never listening: the port stays ours, and the kernel refuses every connect to it
    try (var held = new Socket()) {
      held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Multiaddr refused = Multiaddr.parse("/ip4/127.0.0.1/tcp/" + held.getLocalPort());
      // Dialled from more threads than there are cores, so a dialling thread is often descheduled between
      // starting the connect and hearing how it ended, while the event loop fails and closes the channel.
      List<CompletableFuture<Connection>> dials = Collections.synchronizedList(new ArrayList<>());
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        threads.add(Thread.ofPlatform().start(() -> {
          for (int i = 0; i < 50; i++) {
            dials.add(h.dial(refused));
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
      for (var d : dials) {
        var e = assertThrows(ExecutionException.class, () -> d.get(10, TimeUnit.SECONDS));
        assertEquals("cannot connect to " + refused + ": connection refused (nothing listens there)",
            e.getCause().getMessage());
      }
    }
  }

  @Test
  void listeningTwiceOnOneAddressNamesThisNodesOwnListener() throws Exception {
    Host h = newHost();
    Multiaddr bound = h.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
    var e = assertThrows(IOException.class, () -> h.listen(bound));
    assertEquals("cannot listen on " + bound + ": this node already listens on " + bound
        + " (the address is listed twice)", e.getMessage());
  }

  @Test
  void pingRoundTripsAndIdentifyReportsProtocols() throws Exception {
    Host server = newHost();
    Host client = newHost();
    Multiaddr addr = server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
    Connection c = client.dial(addr).get(10, TimeUnit.SECONDS);

    List<Duration> rtts = Ping.ping(c, 3, new SplittableRandom(1)).get(10, TimeUnit.SECONDS);
    assertEquals(3, rtts.size());

    PeerStore.PeerInfo info = client.identifyResult(c).get(10, TimeUnit.SECONDS);
    assertTrue(info.supports(Echo.PROTOCOL_ID), info.protocols().toString());
    assertTrue(info.supports(Ping.PROTOCOL_ID));
    assertTrue(info.addresses().contains(addr), info.addresses().toString());
    assertEquals("circular/0.1.0", info.agentVersion());
  }

  @Test
  void openStreamByPeerIdDialsAKnownAddress() throws Exception {
    Host server = newHost();
    Host client = newHost();
    Multiaddr addr = server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
    client.peerStore().addAddresses(server.peerId(), List.of(addr));

    P2pStream s = client.openStream(server.peerId(), Echo.PROTOCOL_ID).get(10, TimeUnit.SECONDS);
    assertArrayEquals(Echo.expectedDigest(7, 1000), Echo.exchange(s, 7, 1000).get(10, TimeUnit.SECONDS));
  }

  @Test
  void refusesAPeerWhoseIdIsNotTheDialledOne() throws Exception {
    Host server = newHost();
    Host client = newHost();
    Multiaddr addr = server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"));
    PeerId someoneElse = IdentityKey.generate(new SecureRandom()).peerId();

    ExecutionException e = assertThrows(ExecutionException.class,
        () -> client.dial(addr.withPeerId(someoneElse)).get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("but the peer is " + server.peerId()), e.getCause().getMessage());
    // the server stays up
    assertEquals(server.peerId(), client.dial(addr).get(10, TimeUnit.SECONDS).remotePeer());
  }

  @Test
  void unsupportedProtocolFailsTheStreamNotTheConnection() throws Exception {
    Host server = newHost();
    Host client = newHost();
    Connection c = client.dial(server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))).get(10, TimeUnit.SECONDS);

    ExecutionException e = assertThrows(ExecutionException.class,
        () -> c.openStream("/no/such/protocol").get(10, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("supports none of"), e.getCause().getMessage());
    assertTrue(c.isOpen());
    assertEquals(3, Ping.ping(c, 3, new SplittableRandom(2)).get(10, TimeUnit.SECONDS).size());
  }
}
