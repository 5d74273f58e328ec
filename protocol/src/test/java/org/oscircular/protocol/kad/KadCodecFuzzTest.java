package org.oscircular.protocol.kad;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;

/**
 * The kad message parser reads bytes from any peer: it must return a message or throw
 * {@link KadMessageException}, nothing else. Seeds live under
 * src/test/resources/org/oscircular/protocol/kad/KadCodecFuzzTestInputs/.
 */
class KadCodecFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void decoderOnlyThrowsKadMessageException(byte[] data) {
        KadMessage m;
        try {
            m = KadCodec.decode(data);
        } catch (KadMessageException expected) {
            return; // rejected with a reason: fine
        }
        // whatever was accepted must survive our own encoder and decode to the same message
        byte[] again = KadCodec.encode(m);
        try {
            KadMessage back = KadCodec.decode(again);
            if (!Arrays.equals(again, KadCodec.encode(back))) {
                throw new AssertionError("re-encoding is not stable for " + KadCodecTest.describe(m));
            }
        } catch (KadMessageException e) {
            throw new AssertionError("our own encoding of an accepted message was rejected: " + e.getMessage());
        }
    }
}
