package org.oscircular.node.p2p;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import org.oscircular.protocol.p2p.WireFormatException;

/**
 * The identify reader (length-prefixed protobufs from a peer) only ever throws
 * {@link WireFormatException}. Seeds: src/test/resources/org/oscircular/node/p2p/IdentifyFuzzTestInputs/.
 */
class IdentifyFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void identifyParserOnlyThrowsWireFormatException(byte[] data) {
    try {
      Identify.parse(ByteBuffer.wrap(data));
    } catch (WireFormatException expected) {
      // rejected with a message
    }
  }
}
