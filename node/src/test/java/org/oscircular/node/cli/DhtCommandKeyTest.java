package org.oscircular.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.oscircular.protocol.p2p.Multihash;

/** The keys {@code circular dht find-providers} accepts; the CIDs were made by the js multiformats package. */
class DhtCommandKeyTest {
  /** sha256("hello block") as a multihash. */
  private static final String SHA256_MH = "1220725c20214587b0dcd5fbf0dca637904a97a142e89f4a06f55f6b191e333f6b1c";

  @ParameterizedTest
  @ValueSource(strings = {
      "bafkreidslqqccrmhwdonl67q3stdpecks6quf2e7jidpkx3ldepdgp3ldq", // CIDv1 raw, base32
      "zb2rheLh9UyASPWGCmBZ76V9okWbphwg7tfQMnvWYfS2t7yUX", // the same CID in base58btc
      "QmW34fRkvb8VK1uda1LCTuN3qYzSxdZvVazrCsmrGc9oGo"}) // CIDv0
  void anyCidOfContentNamesItsSha256Multihash(String cid) {
    assertEquals(SHA256_MH, HexFormat.of().formatHex(DhtCommand.contentKey(cid).toBytes()));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "25f3469cb1368a8182766fb5c95ecc489a322cbc",
      "bafkrcfbf6ndjzmjwrkaye5tpwxev5tcitizczpa",
      "111425f3469cb1368a8182766fb5c95ecc489a322cbc"})
  void blockNamesStayTheirSha1Multihash(String name) {
    Multihash key = DhtCommand.contentKey(name);
    assertEquals(Multihash.SHA1, key.code());
    assertEquals("25f3469cb1368a8182766fb5c95ecc489a322cbc", HexFormat.of().formatHex(key.digest()));
  }

  @Test
  void somethingElseIsRefusedWithOneLine() {
    var e = assertThrows(IllegalArgumentException.class, () -> DhtCommand.contentKey("bafkrei"));
    assertTrue(e.getMessage().startsWith("not a block name or CID") && !e.getMessage().contains("\n"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DhtCommand.contentKey("hello"));
  }
}
