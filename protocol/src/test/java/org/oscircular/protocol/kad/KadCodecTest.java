package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.oscircular.protocol.kad.proto.KadProto;

class KadCodecTest {

    private static final HexFormat HEX = HexFormat.of();

    /** A canonical text of a message, so that messages holding byte arrays can be compared. */
    static String describe(KadMessage m) {
        return switch (m) {
            case KadMessage.FindNode f -> "FIND_NODE " + HEX.formatHex(f.key()) + " " + peers(f.closerPeers());
            case KadMessage.GetProviders g -> "GET_PROVIDERS " + HEX.formatHex(g.key()) + " "
                    + peers(g.closerPeers()) + " " + peers(g.providerPeers());
            case KadMessage.AddProvider a -> "ADD_PROVIDER " + a.keys().stream().map(HEX::formatHex).toList() + " "
                    + peers(a.providerPeers());
            case KadMessage.GetValue g -> "GET_VALUE " + HEX.formatHex(g.key()) + " " + record(g.record()) + " "
                    + peers(g.closerPeers());
            case KadMessage.PutValue p -> "PUT_VALUE " + HEX.formatHex(p.key()) + " " + record(p.record());
            case KadMessage.Ping p -> "PING";
        };
    }

    private static String peers(List<KadMessage.Peer> peers) {
        return peers.stream().map(p -> HEX.formatHex(p.id()) + p.addrs().stream().map(HEX::formatHex).toList()
                + p.connection()).toList().toString();
    }

    private static String record(KadMessage.Record r) {
        return r == null ? "-" : HEX.formatHex(r.key()) + "=" + HEX.formatHex(r.value()) + "@" + r.timeReceived();
    }

    @Provide
    Arbitrary<KadMessage> messages() {
        Arbitrary<byte[]> key = Arbitraries.bytes().array(byte[].class).ofMaxSize(80);
        Arbitrary<byte[]> nonEmptyKey = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(80);
        Arbitrary<KadMessage.Peer> peer = Combinators.combine(
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(40),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(30).list().ofMaxSize(3),
                Arbitraries.of(KadMessage.Connection.class)).as(KadMessage.Peer::new);
        Arbitrary<List<KadMessage.Peer>> peers = peer.list().ofMaxSize(5);
        Arbitrary<KadMessage.Record> record = Combinators.combine(key, key,
                Arbitraries.strings().ofMaxLength(30)).as(KadMessage.Record::new).injectNull(0.3);
        return Arbitraries.oneOf(
                Combinators.combine(key, peers).as(KadMessage.FindNode::new),
                Combinators.combine(key, peers, peers).as(KadMessage.GetProviders::new),
                Combinators.combine(nonEmptyKey.list().ofMinSize(1).ofMaxSize(10), peers)
                        .as(KadMessage.AddProvider::new),
                Combinators.combine(key, record, peers).as(KadMessage.GetValue::new),
                Combinators.combine(key, record).as(KadMessage.PutValue::new),
                Arbitraries.just(new KadMessage.Ping()));
    }

    @Property
    void decodingAnEncodedMessageGivesItBack(@ForAll("messages") KadMessage message) throws Exception {
        byte[] wire = KadCodec.encode(message);
        KadMessage back = KadCodec.decode(wire);
        assertEquals(describe(message), describe(back));
        assertArrayEquals(wire, KadCodec.encode(back));
    }

    @Test
    void readsAStandardFindNodeRequest() throws Exception {
        // type = FIND_NODE (08 04), key = 22-byte sha1 multihash (12 16 ...)
        byte[] wire = HEX.parseHex("0804" + "1216" + "111425f3469cb1368a8182766fb5c95ecc489a322cbc");
        KadMessage.FindNode f = assertInstanceOf(KadMessage.FindNode.class, KadCodec.decode(wire));
        assertEquals("111425f3469cb1368a8182766fb5c95ecc489a322cbc", HEX.formatHex(f.key()));
    }

    @Test
    void aMissingTypeIsPutValueAsProto3EncodersOmitZero() throws Exception {
        byte[] wire = KadProto.Message.newBuilder().setKey(com.google.protobuf.ByteString.copyFromUtf8("/v/x"))
                .build().toByteArray();
        KadMessage.PutValue p = assertInstanceOf(KadMessage.PutValue.class, KadCodec.decode(wire));
        assertNull(p.record());
    }

    @Test
    void aSingleKeyAddProviderIsTheStandardMessageAndExtraKeysUseTheExtensionField() throws Exception {
        KadMessage.Peer self = new KadMessage.Peer(new byte[] {0, 1}, List.of(new byte[] {4, 127, 0, 0, 1}),
                KadMessage.Connection.CONNECTED);
        byte[] one = KadCodec.encode(new KadMessage.AddProvider(List.of(new byte[] {0x11}), List.of(self)));
        KadProto.Message standard = KadProto.Message.parseFrom(one);
        assertEquals(KadProto.Message.MessageType.ADD_PROVIDER, standard.getType());
        assertEquals(0, standard.getAdditionalKeysCount());
        byte[] three = KadCodec.encode(new KadMessage.AddProvider(
                List.of(new byte[] {1}, new byte[] {2}, new byte[] {3}), List.of(self)));
        KadProto.Message extended = KadProto.Message.parseFrom(three);
        assertEquals("01", HEX.formatHex(extended.getKey().toByteArray()));
        assertEquals(2, extended.getAdditionalKeysCount());
    }

    @Test
    void rejectsMalformedMessagesWithAOneLineReason() {
        assertEquals("unknown kad message type 9", reason(HEX.parseHex("0809")));
        assertEquals("kad message is not valid protobuf: While parsing a protocol message, the input ended"
                + " unexpectedly in the middle of a field.  This could mean either that the input has been"
                + " truncated or that an embedded message misreported its own length.", reason(HEX.parseHex("1205")));
        assertEquals("ADD_PROVIDER without a key", reason(HEX.parseHex("0802")));
        List<KadProto.Message.Peer> many = new ArrayList<>();
        for (int i = 0; i < KadCodec.MAX_PEERS + 1; i++) {
            many.add(KadProto.Message.Peer.newBuilder().setId(com.google.protobuf.ByteString.copyFrom(new byte[] {1}))
                    .build());
        }
        byte[] tooMany = KadProto.Message.newBuilder().setType(KadProto.Message.MessageType.FIND_NODE)
                .addAllCloserPeers(many).build().toByteArray();
        assertEquals("closerPeers lists 257 peers, more than 256", reason(tooMany));
        byte[] noId = KadProto.Message.newBuilder().setType(KadProto.Message.MessageType.GET_PROVIDERS)
                .addProviderPeers(KadProto.Message.Peer.getDefaultInstance()).build().toByteArray();
        assertEquals("providerPeers has a peer id of 0 bytes (expected 1..128)", reason(noId));
        byte[] extraOnFind = KadProto.Message.newBuilder().setType(KadProto.Message.MessageType.FIND_NODE)
                .addAdditionalKeys(com.google.protobuf.ByteString.copyFrom(new byte[] {1})).build().toByteArray();
        assertEquals("additionalKeys is only valid in ADD_PROVIDER, got FIND_NODE", reason(extraOnFind));
    }

    private static String reason(byte[] wire) {
        return assertThrows(KadMessageException.class, () -> KadCodec.decode(wire)).getMessage();
    }
}
