package org.oscircular.protocol.exchange;

import java.util.Objects;

/**
 * A peer that claims to have a block.
 *
 * @param peer the driver's handle for the peer (never {@link BlockExchange#ORIGIN})
 * @param tier where the peer sits, which sets the order in which peers are asked
 * @param rtt the round-trip time to the peer, in the driver's time unit (a tie-breaker within a tier)
 */
public record Provider(long peer, SourceTier tier, long rtt) {
    public Provider {
        Objects.requireNonNull(tier, "tier");
        if (peer == BlockExchange.ORIGIN) {
            throw new IllegalArgumentException("peer handle " + peer + " is reserved for the origin");
        }
        if (rtt < 0) {
            throw new IllegalArgumentException("rtt must be >= 0, got " + rtt);
        }
    }
}
