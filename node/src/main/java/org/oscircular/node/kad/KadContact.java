package org.oscircular.node.kad;

import java.util.List;
import org.oscircular.protocol.kad.KadKey;
import org.oscircular.protocol.kad.KadPeer;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/** A DHT peer as the node sees it: its libp2p peer id, the addresses it was last reported with, its kad key. */
public final class KadContact implements KadPeer {
    private final PeerId id;
    private final List<Multiaddr> addresses;
    private final KadKey kadKey;

    public KadContact(PeerId id, List<Multiaddr> addresses) {
        this.id = id;
        this.addresses = List.copyOf(addresses);
        this.kadKey = KadKey.of(id.toBytes());
    }

    public PeerId id() {
        return id;
    }

    public List<Multiaddr> addresses() {
        return addresses;
    }

    @Override
    public KadKey kadKey() {
        return kadKey;
    }

    /** Equal when the peer ids are (addresses change; identity does not). */
    @Override
    public boolean equals(Object o) {
        return o instanceof KadContact other && id.equals(other.id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return id + " " + addresses;
    }
}
