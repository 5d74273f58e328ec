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
 * @param fetchingInterval how often a peer that is still loading a block it was asked for (a designated peer's or
 *     a seed's fetch-through) should tell this node so with a {@code Fetching} notice; the node asks for it in its
 *     {@code Hello} and the simulator's holders send at this interval (default {@code requestTimeout / 2}: 1 s)
 * @param maxFetchingWait the longest a request may be kept alive by {@code Fetching} notices, counted from when it
 *     was sent; a peer still "fetching" after this long is timed out like a silent one (default 60 s)
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
        int maxPeerRecords,
        long fetchingInterval,
        long maxFetchingWait) {

    private static final long SECOND = 1_000_000_000L;
    /** The default of {@link #maxPeerRecords()}. */
    public static final int DEFAULT_MAX_PEER_RECORDS = 4096;
    /** The default of {@link #maxFetchingWait()}. */
    public static final long DEFAULT_MAX_FETCHING_WAIT = 60 * SECOND;

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
        atLeast("fetchingInterval", fetchingInterval, 1);
        if (fetchingInterval >= requestTimeout) {
            throw new IllegalArgumentException("fetchingInterval must be below requestTimeout (" + requestTimeout
                    + "), or every request times out between two notices; got " + fetchingInterval);
        }
        atLeast("maxFetchingWait", maxFetchingWait, 0);
    }

    /**
     * The settings above with {@code fetchingInterval} half the request timeout and the default
     * {@code maxFetchingWait}.
     */
    public ExchangeConfig(int maxInFlightPerPeer, int maxInFlightPeers, int maxInFlightOrigin, OriginMode originMode,
            long requestTimeout, long originHedgeDelay, int timeoutsBeforeDrop, int badBlocksBeforeBan,
            long banDuration, int maxLookups, long lookupRetryDelay, int maxOriginAttempts, int maxPeerRecords) {
        this(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, originMode, requestTimeout, originHedgeDelay,
                timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay, maxOriginAttempts,
                maxPeerRecords, Math.max(1, requestTimeout / 2), DEFAULT_MAX_FETCHING_WAIT);
    }

    /** The settings above with the default bound on idle peer records and the default fetching notices. */
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
                SECOND, 3, DEFAULT_MAX_PEER_RECORDS, SECOND, DEFAULT_MAX_FETCHING_WAIT);
    }

    public ExchangeConfig withOriginMode(OriginMode mode) {
        return new ExchangeConfig(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, mode, requestTimeout,
                originHedgeDelay, timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay,
                maxOriginAttempts, maxPeerRecords, fetchingInterval, maxFetchingWait);
    }

    public ExchangeConfig withMaxPeerRecords(int max) {
        return new ExchangeConfig(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, originMode, requestTimeout,
                originHedgeDelay, timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay,
                maxOriginAttempts, max, fetchingInterval, maxFetchingWait);
    }

    public ExchangeConfig withFetching(long interval, long maxWait) {
        return new ExchangeConfig(maxInFlightPerPeer, maxInFlightPeers, maxInFlightOrigin, originMode, requestTimeout,
                originHedgeDelay, timeoutsBeforeDrop, badBlocksBeforeBan, banDuration, maxLookups, lookupRetryDelay,
                maxOriginAttempts, maxPeerRecords, interval, maxWait);
    }

    private static void atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
        }
    }
}
