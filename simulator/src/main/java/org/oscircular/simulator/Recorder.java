package org.oscircular.simulator;

import java.util.Arrays;

/** Counters and time series of one run: bytes by source over time, lookups, bans, failures. */
final class Recorder {
    /** Columns of the traffic series. */
    static final String[] SERIES = {"origin", "seed", "wan", "lan"};

    private final long interval;
    private long[][] buckets = new long[64][SERIES.length];
    private int lastBucket = -1;

    long originSent;
    long hostsSent;
    long received;
    long wastedBytes;
    long lookups;
    long lookupNanos;
    long[] lookupHops = new long[64];
    long[] lookupNanosByHops = new long[64];
    /** Lookup latencies in 1 ms buckets up to 10 s (the last bucket holds everything slower). */
    final long[] lookupLatencyMs = new long[10_001];
    long badBlocks;
    long disconnects;
    long bans;
    long unavailable;
    long dontHaves;
    long failedRequests;
    long fetchThroughs;
    long fetchingNotices;
    long announcesStarted;
    long announcesDone;
    long announceKeys;
    long announceRpcs;
    long announceLookups;
    long announceMillis;

    Recorder(long interval) {
        this.interval = interval;
    }

    /** {@code bytes} moved from a server to a requester at time {@code now}. */
    void moved(long now, Source source, boolean fromSeed, long bytes, boolean useful) {
        if (bytes == 0) {
            return;
        }
        if (source == Source.ORIGIN) {
            originSent += bytes;
        } else {
            hostsSent += bytes;
        }
        received += bytes;
        if (!useful) {
            wastedBytes += bytes;
        }
        long[] b = bucket(now);
        if (source == Source.ORIGIN) {
            b[0] += bytes;
        }
        if (fromSeed) {
            b[1] += bytes;
        }
        if (source.crossesWan()) {
            b[2] += bytes;
        } else {
            b[3] += bytes;
        }
    }

    void lookup(long nanos, int hops) {
        lookups++;
        lookupNanos += nanos;
        if (hops >= lookupHops.length) {
            lookupHops = Arrays.copyOf(lookupHops, hops + 1);
            lookupNanosByHops = Arrays.copyOf(lookupNanosByHops, hops + 1);
        }
        lookupHops[hops]++;
        lookupNanosByHops[hops] += nanos;
        lookupLatencyMs[(int) Math.min(lookupLatencyMs.length - 1, nanos / 1_000_000)]++;
    }

    /** The q-quantile of lookup latency in milliseconds (1 ms resolution), or NaN without lookups. */
    double lookupLatencyQuantileMs(double q) {
        if (lookups == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(q * lookups);
        long seen = 0;
        for (int i = 0; i < lookupLatencyMs.length; i++) {
            seen += lookupLatencyMs[i];
            if (seen >= rank) {
                return i;
            }
        }
        return lookupLatencyMs.length - 1;
    }

    void announced(org.oscircular.protocol.kad.AnnounceReport report) {
        announcesDone++;
        announceKeys += report.keys();
        announceRpcs += report.rpcs();
        announceLookups += report.lookups();
        announceMillis += report.elapsedMillis();
    }

    long interval() {
        return interval;
    }

    int bucketCount() {
        return lastBucket + 1;
    }

    long[] bucketAt(int i) {
        return buckets[i];
    }

    private long[] bucket(long now) {
        int i = (int) (now / interval);
        if (i >= buckets.length) {
            int n = Math.max(buckets.length * 2, i + 1);
            long[][] grown = Arrays.copyOf(buckets, n);
            for (int k = buckets.length; k < n; k++) {
                grown[k] = new long[SERIES.length];
            }
            buckets = grown;
        }
        lastBucket = Math.max(lastBucket, i);
        return buckets[i];
    }
}
