package org.oscircular.simulator;

import java.util.ArrayList;
import java.util.List;

/** One simulated machine: a lab client or a seed, with its cache and its network attachment. */
final class Host {
    final int id;
    final int site;
    final boolean seed;
    final boolean bad;
    final int upLink;
    final int downLink;
    /** Cached blocks: over the whole image for seeds, over boot-trace positions for clients. */
    final long[] cache;
    boolean online = true;
    boolean done;
    boolean failed;
    int attempts;
    long wantedAt = -1;
    long doneAt = -1;
    final long[] bytesFrom = new long[Source.values().length];
    NodeDriver driver;
    List<Transfer> uploads;

    Host(int id, int site, boolean seed, boolean bad, int upLink, int downLink, int cacheBits) {
        this.id = id;
        this.site = site;
        this.seed = seed;
        this.bad = bad;
        this.upLink = upLink;
        this.downLink = downLink;
        this.cache = new long[(cacheBits + 63) >>> 6];
    }

    boolean has(int bit) {
        return bit >= 0 && (cache[bit >>> 6] & (1L << bit)) != 0;
    }

    void add(int bit) {
        cache[bit >>> 6] |= 1L << bit;
    }

    void upload(Transfer t) {
        if (uploads == null) {
            uploads = new ArrayList<>(4);
        }
        uploads.add(t);
    }

    void uploadEnded(Transfer t) {
        if (uploads != null) {
            uploads.remove(t);
        }
    }
}
