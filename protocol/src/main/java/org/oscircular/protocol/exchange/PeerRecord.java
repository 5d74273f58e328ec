package org.oscircular.protocol.exchange;

/** What the exchange remembers about one peer: load, reputation and exclusion. */
final class PeerRecord {
    private static final int MAX_SCORE = 10;

    int inFlight;
    int consecutiveTimeouts;
    int badBlocks;
    int score;
    boolean banned;
    /** The peer is not asked before this time (after a drop or a ban). */
    long excludedUntil = Long.MIN_VALUE;

    boolean usable(long now) {
        return now >= excludedUntil;
    }

    void succeeded() {
        consecutiveTimeouts = 0;
        if (score < MAX_SCORE) {
            score++;
        }
    }

    void timedOut() {
        consecutiveTimeouts++;
        score -= 2;
    }

    void failed() {
        score -= 1;
    }

    void sentBadBlock() {
        badBlocks++;
        score -= 10;
    }
}
