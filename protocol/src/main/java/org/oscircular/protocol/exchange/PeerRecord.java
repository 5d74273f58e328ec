package org.oscircular.protocol.exchange;

/** What the exchange remembers about one peer: load, reputation and exclusion. */
final class PeerRecord {
    private static final int MAX_SCORE = 10;

    int inFlight;
    /** Wanted blocks that list this peer as a candidate. */
    int candidateOf;
    int consecutiveTimeouts;
    int badBlocks;
    int score;
    boolean banned;
    /** The peer is not asked before this time (after a drop or a ban). */
    long excludedUntil = Long.MIN_VALUE;
    /** When the peer last delivered a valid block or reported that it is loading one it was asked for. */
    long lastProgressAt = Long.MIN_VALUE;

    boolean usable(long now) {
        return now >= excludedUntil;
    }

    /** Nothing refers to this record and forgetting it lifts no exclusion: it may be dropped from the table. */
    boolean idle(long now) {
        return inFlight == 0 && candidateOf == 0 && usable(now);
    }

    /** Nothing but good blocks on record: no timeout, bad block, negative score, exclusion or request in flight. */
    boolean inGoodStanding(long now) {
        return inFlight == 0 && consecutiveTimeouts == 0 && badBlocks == 0 && score >= 0 && !banned
                && usable(now);
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
