package org.oscircular.protocol.mdns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class MdnsPacketTest {

    @Test
    void aQueryAsksForTheLibp2pService() throws Exception {
        MdnsPacket p = MdnsPacket.parse(MdnsPacket.query());
        assertTrue(p.asksForService());
        assertFalse(p.response());
        assertEquals(List.of(), p.dnsaddrs());
    }

    @Property
    void aResponseCarriesEveryAddress(@ForAll @Size(max = 5) List<@IntRange(min = 1, max = 65535) Integer> ports)
            throws Exception {
        List<String> addrs = ports.stream().map(p -> "/ip4/10.0.0.1/tcp/" + p + "/p2p/12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5").toList();
        MdnsPacket p = MdnsPacket.parse(MdnsPacket.response("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", addrs));
        assertTrue(p.response());
        assertFalse(p.asksForService());
        assertEquals(addrs, p.dnsaddrs());
    }

    @Test
    void followsNameCompressionAndReadsTxtFromTheAdditionalSection() throws Exception {
        // a response as go's zeroconf shapes it: PTR answer; TXT in additionals whose name points into the answer
        String hex = "0000" + "8400" + "0000" + "0001" + "0000" + "0001"
                + "045f703270045f756470056c6f63616c00" // _p2p._udp.local at offset 12
                + "000c" + "0001" + "00000078" + "0004" + "0170" + "c00c" // PTR -> p._p2p._udp.local (pointer)
                + "c027" // name: pointer to "p._p2p..." inside the PTR data at offset 39
                + "0010" + "0001" + "00000078" + "0017" + "16" + HexFormat.of().formatHex(
                        "dnsaddr=/ip4/1.2.3.4/x".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        MdnsPacket p = MdnsPacket.parse(HexFormat.of().parseHex(hex));
        assertEquals(List.of("/ip4/1.2.3.4/x"), p.dnsaddrs());
    }

    @Test
    void rejectsMalformedPacketsWithAOneLineReason() {
        assertEquals("mDNS packet ends inside a header", reason("0000"));
        assertEquals("mDNS name has too many compression pointers", reason("000000000001000000000000" + "c00c"));
        assertEquals("mDNS packet ends inside a label", reason("000000000001000000000000" + "05abcd"));
        assertEquals("mDNS packet claims 65535 records, more than 256", reason("00000000ffff000000000000"));
        assertEquals("mDNS packet ends inside a record data", reason("000084000000000100000000" + "00" + "0010000100000078" + "0010" + "00"));
    }

    private static String reason(String hex) {
        return assertThrows(MdnsException.class, () -> MdnsPacket.parse(HexFormat.of().parseHex(hex))).getMessage();
    }
}
