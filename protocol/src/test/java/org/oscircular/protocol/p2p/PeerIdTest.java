package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class PeerIdTest {
  @Test
  void derivesTheSameIdAsJsLibp2pFromAKnownSeed() {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) 1);
    IdentityKey key = IdentityKey.fromSeed(seed);
    assertEquals("12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5", key.peerId().toString());
  }

  @Test
  void derivesThePublicKeyOfTheSpecTestVector() {
    // peer-ids/peer-ids.md Ed25519 test vector: private key protobuf and public key protobuf.
    byte[] priv = HexFormat.of().parseHex(
        "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
    IdentityKey key = IdentityKey.fromPrivateKeyProto(priv);
    assertArrayEquals(
        HexFormat.of().parseHex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"),
        key.publicKeyProto());
    assertArrayEquals(priv, key.toPrivateKeyProto());
  }

  @Test
  void parsesBothTextForms() {
    IdentityKey key = IdentityKey.fromSeed(new byte[32]);
    PeerId id = key.peerId();
    assertTrue(id.toCidString().startsWith("bafz"), id.toCidString());
    assertEquals(id, PeerId.parse(id.toString()));
    assertEquals(id, PeerId.parse(id.toCidString()));
    assertArrayEquals(key.publicKeyProto(), id.inlinedPublicKey());
  }

  @Property
  void cidAndBase58FormsRoundTrip(@ForAll @Size(32) byte[] seed) {
    PeerId id = IdentityKey.fromSeed(seed).peerId();
    assertEquals(id, PeerId.parse(id.toString()));
    assertEquals(id, PeerId.parse(id.toCidString()));
    assertEquals(id, PeerId.fromBytes(id.toBytes()));
  }

  @Test
  void usesSha256ForKeysLongerThan42Bytes() {
    byte[] big = new byte[100];
    PeerId id = PeerId.fromPublicKey(big);
    assertEquals(Multihash.SHA2_256, id.multihash().code());
    assertTrue(id.toString().startsWith("Qm"));
  }

  @Test
  void rejectsACidWithTheWrongCodec() {
    byte[] cid = {1, 0x55, 0, 2, 1, 2};
    assertThrows(WireFormatException.class, () -> PeerId.parse("b" + Multibase.base32(cid)));
  }

  @Test
  void signaturesVerifyOnlyWithTheSigningKey() {
    IdentityKey a = IdentityKey.fromSeed(new byte[32]);
    byte[] sig = a.sign("hello".getBytes());
    assertTrue(IdentityKey.verify(a.publicKeyProto(), "hello".getBytes(), sig));
    assertEquals(false, IdentityKey.verify(a.publicKeyProto(), "hellp".getBytes(), sig));
  }
}
