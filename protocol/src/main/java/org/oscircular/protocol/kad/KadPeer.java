package org.oscircular.protocol.kad;

/**
 * A participant of the DHT as the protocol core sees it: anything with a position in the keyspace.
 *
 * <p>The core never looks inside a peer beyond {@link #kadKey()} and {@code equals}/{@code hashCode}, so the node
 * uses libp2p peer ids with addresses and the simulator uses its own compact node objects. Two peers with the same
 * kad key must be equal.
 */
public interface KadPeer {

    /** {@code sha256} of the peer id multihash (or any compact 256-bit id in the simulator). */
    KadKey kadKey();
}
