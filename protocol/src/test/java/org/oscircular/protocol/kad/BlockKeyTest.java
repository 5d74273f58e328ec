package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class BlockKeyTest {

    @Test
    void cidOfASha1BlockMatchesTheMultiformatsReferenceOutput() throws Exception {
        byte[] sha1 = MessageDigest.getInstance("SHA-1").digest("hello block".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        BlockKey key = new BlockKey(sha1);
        assertEquals("25f3469cb1368a8182766fb5c95ecc489a322cbc", key.hex());
        assertEquals("111425f3469cb1368a8182766fb5c95ecc489a322cbc", HexFormat.of().formatHex(key.multihash()));
        assertEquals("bafkrcfbf6ndjzmjwrkaye5tpwxev5tcitizczpa", key.cid());
    }

    @Test
    void kadKeyIsSha256OfTheMultihash() throws Exception {
        BlockKey key = BlockKey.parse("25f3469cb1368a8182766fb5c95ecc489a322cbc");
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(key.multihash());
        assertEquals(KadKey.ofDigest(expected), key.kadKey());
    }

    @Property
    void everyTextFormParsesBackToTheSameKey(@ForAll @Size(20) byte[] sha1) {
        BlockKey key = new BlockKey(sha1);
        assertTrue(key.cid().startsWith("bafkrcf"));
        assertEquals(40, key.cid().length());
        assertEquals(key, BlockKey.parse(key.cid()));
        assertEquals(key, BlockKey.parse(key.hex()));
        assertEquals(key, BlockKey.parse(HexFormat.of().formatHex(key.multihash())));
        assertEquals(key, BlockKey.fromMultihash(key.multihash()));
    }

    @Test
    void rejectsTextThatIsNoBlockKeyWithAOneLineReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> BlockKey.parse("hello"));
        assertEquals("a block key is 40 hex digits (SHA-1), a CIDv1 raw sha1 (bafkrcf...) or a sha1 multihash,"
                + " got: hello", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockKey.parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"));
        assertThrows(IllegalArgumentException.class, () -> BlockKey.parse("b!!!!"));
    }
}
