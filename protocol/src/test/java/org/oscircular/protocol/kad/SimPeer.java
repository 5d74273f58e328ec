package org.oscircular.protocol.kad;

/** A node of the virtual-time harness: an index into the network plus its random 256-bit key. */
public record SimPeer(int index, KadKey kadKey) implements KadPeer {

    @Override
    public String toString() {
        return "n" + index;
    }
}
