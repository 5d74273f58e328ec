package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.HexFormat;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class MultiaddrTest {
  @Test
  void encodesTheReadmeExample() {
    Multiaddr m = Multiaddr.parse("/ip4/127.0.0.1/tcp/4001");
    assertArrayEquals(HexFormat.of().parseHex("047f000001060fa1"), m.toBytes());
    assertEquals(m, Multiaddr.fromBytes(m.toBytes()));
  }

  @Test
  void roundTripsIp6DnsAndP2p() {
    String id = IdentityKey.fromSeed(new byte[32]).peerId().toString();
    for (String s : new String[] {
        "/ip6/::1/tcp/4001", "/ip6/2001:db8::8:800:200c:417a/udp/53/quic-v1", "/dns4/example.org/tcp/443/ws",
        "/dnsaddr/bootstrap.example/p2p/" + id, "/ip4/10.0.0.1/tcp/1/p2p/" + id, "/ip6/::/tcp/0"}) {
      Multiaddr m = Multiaddr.parse(s);
      assertEquals(s, m.toString());
      assertEquals(m, Multiaddr.fromBytes(m.toBytes()));
    }
  }

  @Test
  void acceptsIpfsAsTheOldNameOfP2p() {
    String id = IdentityKey.fromSeed(new byte[32]).peerId().toString();
    Multiaddr m = Multiaddr.parse("/ip4/1.2.3.4/tcp/5/ipfs/" + id);
    assertEquals("/ip4/1.2.3.4/tcp/5/p2p/" + id, m.toString());
    assertEquals(id, m.peerId().orElseThrow().toString());
    assertEquals("/ip4/1.2.3.4/tcp/5", m.withoutPeerId().toString());
    assertEquals(new Multiaddr.HostPort("1.2.3.4", 5), m.tcpHostPort().orElseThrow());
  }

  @Test
  void rejectsMalformedText() {
    for (String bad : new String[] {"ip4/1.2.3.4", "/ip4/1.2.3", "/ip4/1.2.3.4/tcp/70000", "/tcp", "/foo/1",
        "/ip4/example.org", "/p2p/notapeerid", "/ip6/1.2.3.4"}) {
      assertThrows(WireFormatException.class, () -> Multiaddr.parse(bad), bad);
    }
  }

  @Test
  void rejectsTruncatedBinary() {
    assertThrows(WireFormatException.class, () -> Multiaddr.fromBytes(HexFormat.of().parseHex("047f0000")));
    assertThrows(WireFormatException.class, () -> Multiaddr.fromBytes(HexFormat.of().parseHex("a503")));
  }

  @Property
  void binaryAndTextFormsRoundTrip(@ForAll @Size(4) byte[] ip4, @ForAll @Size(16) byte[] ip6,
      @ForAll @IntRange(min = 0, max = 65535) int port, @ForAll boolean v6, @ForAll("dnsNames") String dns,
      @ForAll boolean useDns) throws Exception {
    Multiaddr m = useDns
        ? Multiaddr.parse("/dns/" + dns + "/tcp/" + port)
        : Multiaddr.tcp(InetAddress.getByAddress(v6 ? ip6 : ip4), port);
    assertEquals(m, Multiaddr.fromBytes(m.toBytes()));
    assertEquals(m, Multiaddr.parse(m.toString()));
  }

  @Provide
  Arbitrary<String> dnsNames() {
    return Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(20).map(s -> s + ".lan");
  }
}
