package org.oscircular.protocol.kad;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.protocol.kad.proto.KadProto;

/**
 * Encodes and decodes {@link KadMessage}s as the kad-dht protobuf (one message, without the uvarint length
 * prefix the stream framing adds). Decoding validates sizes and counts so that a peer cannot make us hold huge
 * lists: anything off is a {@link KadMessageException} with a one-line reason, never another exception.
 */
public final class KadCodec {

    /** Largest message accepted (go-libp2p: 4 MiB). */
    public static final int MAX_MESSAGE_BYTES = 4 << 20;
    /** Largest key (go-libp2p caps provider keys at 80 bytes; record keys such as /pk/... can be longer). */
    public static final int MAX_KEY_BYTES = 512;
    public static final int MAX_PEER_ID_BYTES = 128;
    public static final int MAX_ADDRS_PER_PEER = 64;
    public static final int MAX_ADDR_BYTES = 1024;
    /** Peers per list: k = 20 in practice; generous for other implementations' settings. */
    public static final int MAX_PEERS = 256;
    /** Keys of one multi-key ADD_PROVIDER. */
    public static final int MAX_KEYS_PER_MESSAGE = 8192;

    private KadCodec() {}

    public static byte[] encode(KadMessage message) {
        KadProto.Message.Builder b = KadProto.Message.newBuilder();
        switch (message) {
            case KadMessage.FindNode m -> b.setType(KadProto.Message.MessageType.FIND_NODE)
                    .setKey(bytes(m.key())).addAllCloserPeers(peers(m.closerPeers()));
            case KadMessage.GetProviders m -> b.setType(KadProto.Message.MessageType.GET_PROVIDERS)
                    .setKey(bytes(m.key())).addAllCloserPeers(peers(m.closerPeers()))
                    .addAllProviderPeers(peers(m.providerPeers()));
            case KadMessage.AddProvider m -> {
                b.setType(KadProto.Message.MessageType.ADD_PROVIDER).setKey(bytes(m.keys().getFirst()))
                        .addAllProviderPeers(peers(m.providerPeers()));
                for (byte[] k : m.keys().subList(1, m.keys().size())) b.addAdditionalKeys(bytes(k));
            }
            case KadMessage.GetValue m -> {
                b.setType(KadProto.Message.MessageType.GET_VALUE).setKey(bytes(m.key()))
                        .addAllCloserPeers(peers(m.closerPeers()));
                if (m.record() != null) b.setRecord(record(m.record()));
            }
            case KadMessage.PutValue m -> {
                b.setType(KadProto.Message.MessageType.PUT_VALUE).setKey(bytes(m.key()));
                if (m.record() != null) b.setRecord(record(m.record()));
            }
            case KadMessage.Ping m -> b.setType(KadProto.Message.MessageType.PING);
        }
        return b.build().toByteArray();
    }

    public static KadMessage decode(byte[] data) throws KadMessageException {
        if (data.length > MAX_MESSAGE_BYTES) {
            throw new KadMessageException("kad message of " + data.length + " bytes exceeds " + MAX_MESSAGE_BYTES);
        }
        KadProto.Message m;
        try {
            m = KadProto.Message.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw new KadMessageException("kad message is not valid protobuf: " + e.getMessage());
        }
        byte[] key = key(m.getKey(), "key");
        List<KadMessage.Peer> closer = peers(m.getCloserPeersList(), "closerPeers");
        List<KadMessage.Peer> providers = peers(m.getProviderPeersList(), "providerPeers");
        KadMessage.Record record = m.hasRecord() ? record(m.getRecord()) : null;
        if (m.getAdditionalKeysCount() > 0 && m.getType() != KadProto.Message.MessageType.ADD_PROVIDER) {
            throw new KadMessageException("additionalKeys is only valid in ADD_PROVIDER, got " + m.getType());
        }
        return switch (m.getType()) {
            case FIND_NODE -> new KadMessage.FindNode(key, closer);
            case GET_PROVIDERS -> new KadMessage.GetProviders(key, closer, providers);
            case ADD_PROVIDER -> {
                if (key.length == 0) throw new KadMessageException("ADD_PROVIDER without a key");
                if (m.getAdditionalKeysCount() >= MAX_KEYS_PER_MESSAGE) {
                    throw new KadMessageException("ADD_PROVIDER with " + (m.getAdditionalKeysCount() + 1)
                            + " keys exceeds " + MAX_KEYS_PER_MESSAGE);
                }
                List<byte[]> keys = new ArrayList<>(1 + m.getAdditionalKeysCount());
                keys.add(key);
                for (ByteString k : m.getAdditionalKeysList()) {
                    byte[] extra = key(k, "additionalKeys");
                    if (extra.length == 0) throw new KadMessageException("ADD_PROVIDER with an empty additional key");
                    keys.add(extra);
                }
                yield new KadMessage.AddProvider(keys, providers);
            }
            case GET_VALUE -> new KadMessage.GetValue(key, record, closer);
            case PUT_VALUE -> new KadMessage.PutValue(key, record);
            case PING -> new KadMessage.Ping();
            case UNRECOGNIZED -> throw new KadMessageException("unknown kad message type " + m.getTypeValue());
        };
    }

    private static byte[] key(ByteString k, String field) throws KadMessageException {
        if (k.size() > MAX_KEY_BYTES) {
            throw new KadMessageException(field + " of " + k.size() + " bytes exceeds " + MAX_KEY_BYTES);
        }
        return k.toByteArray();
    }

    private static List<KadMessage.Peer> peers(List<KadProto.Message.Peer> list, String field)
            throws KadMessageException {
        if (list.size() > MAX_PEERS) {
            throw new KadMessageException(field + " lists " + list.size() + " peers, more than " + MAX_PEERS);
        }
        List<KadMessage.Peer> out = new ArrayList<>(list.size());
        for (KadProto.Message.Peer p : list) {
            if (p.getId().isEmpty() || p.getId().size() > MAX_PEER_ID_BYTES) {
                throw new KadMessageException(field + " has a peer id of " + p.getId().size()
                        + " bytes (expected 1.." + MAX_PEER_ID_BYTES + ")");
            }
            if (p.getAddrsCount() > MAX_ADDRS_PER_PEER) {
                throw new KadMessageException(field + " has a peer with " + p.getAddrsCount()
                        + " addresses, more than " + MAX_ADDRS_PER_PEER);
            }
            List<byte[]> addrs = new ArrayList<>(p.getAddrsCount());
            for (ByteString a : p.getAddrsList()) {
                if (a.size() > MAX_ADDR_BYTES) {
                    throw new KadMessageException(field + " has an address of " + a.size() + " bytes");
                }
                addrs.add(a.toByteArray());
            }
            KadMessage.Connection c = switch (p.getConnection()) {
                case NOT_CONNECTED, UNRECOGNIZED -> KadMessage.Connection.NOT_CONNECTED;
                case CONNECTED -> KadMessage.Connection.CONNECTED;
                case CAN_CONNECT -> KadMessage.Connection.CAN_CONNECT;
                case CANNOT_CONNECT -> KadMessage.Connection.CANNOT_CONNECT;
            };
            out.add(new KadMessage.Peer(p.getId().toByteArray(), addrs, c));
        }
        return out;
    }

    private static KadMessage.Record record(KadProto.Record r) throws KadMessageException {
        if (r.getKey().size() > MAX_KEY_BYTES) {
            throw new KadMessageException("record key of " + r.getKey().size() + " bytes exceeds " + MAX_KEY_BYTES);
        }
        return new KadMessage.Record(r.getKey().toByteArray(), r.getValue().toByteArray(), r.getTimeReceived());
    }

    private static ByteString bytes(byte[] b) {
        return ByteString.copyFrom(b);
    }

    private static List<KadProto.Message.Peer> peers(List<KadMessage.Peer> list) {
        List<KadProto.Message.Peer> out = new ArrayList<>(list.size());
        for (KadMessage.Peer p : list) {
            KadProto.Message.Peer.Builder b = KadProto.Message.Peer.newBuilder().setId(bytes(p.id()))
                    .setConnectionValue(p.connection().ordinal());
            for (byte[] a : p.addrs()) b.addAddrs(bytes(a));
            out.add(b.build());
        }
        return out;
    }

    private static KadProto.Record record(KadMessage.Record r) {
        return KadProto.Record.newBuilder().setKey(bytes(r.key())).setValue(bytes(r.value()))
                .setTimeReceived(r.timeReceived()).build();
    }
}
