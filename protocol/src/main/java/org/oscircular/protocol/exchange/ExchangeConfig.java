package org.oscircular.protocol.exchange;

import java.util.Objects;

/**
 * Tuning of the block-exchange policy. Times are in the driver's time unit (the node and the simulator both use
 * nanoseconds). {@link #defaults()} documents every default; {@code docs/exchange.md} explains each knob.
 *
 * @param maxInFlightPerPeer requests outstanding to one peer at a time (default 4)
 * @param maxInFlightPeers requests outstanding to all peers together (default 32)
 * @param maxInFlightOrigin requests outstanding to the origin, separate from peer concurrency (default 4)
 * @param originMode whether the origin may be used at all (default {@link OriginMode#FALLBACK})
 * @param requestTimeout a peer request not answered after this long is abandoned and the block asked elsewhere
 *     (default 2 s)
 * @param originHedgeDelay a block wanted for this long and still not received from peers is also requested from
 *     the origin, if the origin may be used and has a free slot (default 1 s)
 * @param timeoutsBeforeDrop consecutive timeouts after which a peer is dropped (disconnected, not banned)
 *     (default 3)
 * @param badBlocksBeforeBan bad blocks (hash mismatch) after which a peer is banned; every bad block
 *     disconnects the peer (default 2)
 * @param banDuration how long a banned or dropped peer is ignored (default 10 min)
 * @param maxLookups provider lookups per block before giving up on peers for it (default 3)
 * @param lookupRetryDelay wait before repeating a provider lookup that found nobody usable (default 1 s)
 * @param maxOriginAttempts origin failures per block before the block is reported unavailable (default 3)
 * @param maxPeerRecords records of idle peers (no request in flight, candidate of no wanted block, not dropped or
 *     banned) kept for their score; beyond it the oldest idle records are forgotten, so the memory of a
 *     long-running exchange that meets many peers stays bounded (default 4096)
 */
public record ExchangeConfig(
        int maxInFlightPerPeer,
        int maxInFlightPeers,
        int maxInFlightOrigin,
        OriginMode originMode,
        long requestTimeout,
        long originHedgeDelay,
        int timeoutsBeforeDrop,
        int badBlocksBeforeBan,
        long banDuration,
        int maxLookups,
        long lookupRetryDelay,
        int maxOriginAttempts,
        int maxPeerRecords) {

    private static final long SECOND = 1_000_000_000L;
    /** The default of {@link #maxPeerRecords()}. */
    public static final int DEFAULT_MAX_PEER_RECORDS = 4096;

    public ExchangeConfig {
        Objects.requireNonNull(originMode, "originMode");
        atLeast("maxInFlightPerPeer", maxInFlightPerPeer, 1);
        atLeast("maxInFlightPeers", maxInFlightPeers, 1);
        atLeast("maxInFlightOrigin", maxInFlightOrigin, 1);
        atLeast("requestTimeout", requestTimeout, 1);
        atLeast("originHedgeDelay", originHedgeDelay, 0);
        atLeast("timeoutsBeforeDrop", timeoutsBeforeDrop, 1);
        atLeast("badBlocksBeforeBan", badBlocksBeforeBan, 1);
        atLeast("banDuration", banDuration, 0);
        atLeast("maxLookups", maxLookups, 0);
        atLeast("lookupRetryDelay", lookupRetryDelay, 0);
        atLeast("maxOriginAttempts", maxOriginAttempts, 1);
        atLeast("maxPeerRecords", maxPeerRecords, 4);
    }

    /** The settings above with the default bound on idle peer records. */
    public ExchangeConfig(int maxInFlightPerPeer, int maxInFlightPeers, int maxInFlightOrigin, OriginMode originMode,
            long requestTimeout, long originHedgeDelay, int timeoutsBeforeDrop, int badBlocksBeforeBan,
            long banDuration, int maxLookups, long lookupRetryDelay, int maxOriginAttempts) {
        this(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, originMode, requestTimeout, originHedgeDelay,
                timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay, maxOriginAttempts,
                DEFAULT_MAX_PEER_RECORDS);
    }

    /** The defaults, with times in nanoseconds. */
    public static ExchangeConfig defaults() {
        return new ExchangeConfig(4, 32, 4, OriginMode.FALLBACK, 2 * SECOND, SECOND, 3, 2, 600 * SECOND, 3,
                SECOND, 3, DEFAULT_MAX_PEER_RECORDS);
    }

    public ExchangeConfig withOriginMode(OriginMode mode) {
        return new ExchangeConfig(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, mode, requestTimeout,
                originHedgeDelay, timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay,
                maxOriginAttempts, maxPeerRecords);
    }

    public ExchangeConfig withMaxPeerRecords(int max) {
        return new ExchangeConfig(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, originMode, requestTimeout,
                originHedgeDelay, timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay,
                maxOriginAttempts, max);
    }

    private static void atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
        }
    }
}
