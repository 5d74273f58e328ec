package org.oscircular.simulator;

/** Where received bytes came from, for accounting. */
enum Source {
    /** A client of the same site. */
    LAN_PEER,
    /** A seed of the same site. */
    LAN_SEED,
    /** A peer or seed of another site (crosses both WAN links). */
    REMOTE,
    /** The HTTP origin (crosses the site's WAN downlink). */
    ORIGIN;

    boolean crossesWan() {
        return this == REMOTE || this == ORIGIN;
    }
}
