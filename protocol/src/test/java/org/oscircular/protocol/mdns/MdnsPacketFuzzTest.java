package org.oscircular.protocol.mdns;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * mDNS packets come from anyone on the LAN: the parser returns a packet or throws {@link MdnsException}, nothing
 * else. Seeds live under src/test/resources/org/oscircular/protocol/mdns/MdnsPacketFuzzTestInputs/.
 */
class MdnsPacketFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void parserOnlyThrowsMdnsException(byte[] data) {
        try {
            MdnsPacket.parse(data);
        } catch (MdnsException expected) {
            // rejected with a reason: fine
        }
    }
}
