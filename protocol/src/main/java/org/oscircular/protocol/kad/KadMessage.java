package org.oscircular.protocol.kad;

import java.util.List;

/**
 * The kad-dht RPC messages (libp2p/specs kad-dht), as decoded by {@link KadCodec}. Each type serves as request and
 * response; fields a direction does not use are empty. Keys are multihash bytes (or peer id bytes for FIND_NODE);
 * peer ids are peer id multihash bytes and addresses binary multiaddrs, left for the wire layer to interpret.
 *
 * <p>Byte arrays are not copied: a decoded message owns fresh arrays, and callers must not mutate what they pass.
 */
public sealed interface KadMessage {

    /** How the sender is connected to a peer it lists (informational). */
    enum Connection { NOT_CONNECTED, CONNECTED, CAN_CONNECT, CANNOT_CONNECT }

    /** A peer in closerPeers/providerPeers: id multihash bytes and binary multiaddrs. */
    record Peer(byte[] id, List<byte[]> addrs, Connection connection) {
        public Peer {
            addrs = List.copyOf(addrs);
        }
    }

    /** A PUT_VALUE/GET_VALUE record; {@code timeReceived} is an RFC 3339 string or empty. */
    record Record(byte[] key, byte[] value, String timeReceived) {}

    /** FIND_NODE: request carries the key, response the closer peers. */
    record FindNode(byte[] key, List<Peer> closerPeers) implements KadMessage {
        public FindNode {
            closerPeers = List.copyOf(closerPeers);
        }
    }

    /** GET_PROVIDERS: request carries the key, response providers and closer peers. */
    record GetProviders(byte[] key, List<Peer> closerPeers, List<Peer> providerPeers) implements KadMessage {
        public GetProviders {
            closerPeers = List.copyOf(closerPeers);
            providerPeers = List.copyOf(providerPeers);
        }
    }

    /**
     * ADD_PROVIDER (no response). {@code keys} holds at least one key; the first travels in the standard key field,
     * the others in the {@code additionalKeys} extension field that other implementations ignore.
     */
    record AddProvider(List<byte[]> keys, List<Peer> providerPeers) implements KadMessage {
        public AddProvider {
            if (keys.isEmpty()) throw new IllegalArgumentException("ADD_PROVIDER needs at least one key");
            keys = List.copyOf(keys);
            providerPeers = List.copyOf(providerPeers);
        }
    }

    /** GET_VALUE: request carries the key; response the record (null if none) and closer peers. */
    record GetValue(byte[] key, Record record, List<Peer> closerPeers) implements KadMessage {
        public GetValue {
            closerPeers = List.copyOf(closerPeers);
        }
    }

    /** PUT_VALUE: request and its echo carry key and record (null if absent). */
    record PutValue(byte[] key, Record record) implements KadMessage {}

    /** PING (deprecated in kad-dht: tolerated, never sent). */
    record Ping() implements KadMessage {}
}
