package org.oscircular.simulator;

import java.util.Arrays;

/** The headline figures of one run, for the summary table and for replications. */
record RunResult(
        String name,
        long seed,
        int clients,
        int booted,
        int failed,
        double bootP50,
        double bootP90,
        double bootP99,
        double bootMax,
        double allBootedAt,
        long originBytes,
        long seedBytes,
        long wanBytes,
        long lanBytes,
        double originPerImage,
        long lookups,
        double meanLookupMillis,
        long events,
        long bans,
        double wallSeconds) {

    /** Metric names and accessors used for replication statistics, in display order. */
    static final String[] METRICS = {"boot p50 s", "boot p90 s", "boot p99 s", "all booted s", "origin GiB",
        "WAN GiB", "LAN GiB", "origin/boot-set"};

    double metric(int i) {
        return switch (i) {
            case 0 -> bootP50;
            case 1 -> bootP90;
            case 2 -> bootP99;
            case 3 -> allBootedAt;
            case 4 -> originBytes / GIB;
            case 5 -> wanBytes / GIB;
            case 6 -> lanBytes / GIB;
            case 7 -> originPerImage;
            default -> throw new IllegalArgumentException("no metric " + i);
        };
    }

    private static final double GIB = 1024.0 * 1024 * 1024;

    static RunResult of(Simulation sim, double wallSeconds) {
        Scenario sc = sim.scenario();
        double[] durations = new double[sc.clientCount()];
        int booted = 0;
        int failed = 0;
        double lastBoot = 0;
        for (Host h : sim.hosts()) {
            if (h.seed) {
                continue;
            }
            if (h.done && !h.failed) {
                double d = (h.doneAt - h.wantedAt) / 1e9;
                durations[booted++] = d;
                lastBoot = Math.max(lastBoot, h.doneAt / 1e9);
            } else if (h.failed) {
                failed++;
            }
        }
        double[] sorted = Arrays.copyOf(durations, booted);
        Arrays.sort(sorted);
        long origin = 0;
        long seedB = 0;
        long wan = 0;
        long lan = 0;
        Recorder r = sim.recorder();
        for (int i = 0; i < r.bucketCount(); i++) {
            long[] b = r.bucketAt(i);
            origin += b[0];
            seedB += b[1];
            wan += b[2];
            lan += b[3];
        }
        long distinct = sc.seeds().perSite() > 0 && sc.seeds().preheat() == Scenario.Preheat.ALL
                ? java.util.Arrays.stream(sim.workload().nonZeroBlocks()).mapToLong(sim.workload()::size).sum()
                : sim.workload().bootBytes();
        return new RunResult(sc.name(), sc.seed(), sc.clientCount(), booted, failed, quantile(sorted, 0.5),
                quantile(sorted, 0.9), quantile(sorted, 0.99), quantile(sorted, 1.0),
                booted == sc.clientCount() ? lastBoot : Double.NaN, origin, seedB, wan, lan,
                distinct == 0 ? 0 : (double) origin / distinct, r.lookups,
                r.lookups == 0 ? 0 : r.lookupNanos / 1e6 / r.lookups, sim.engine().eventsFired(), r.bans,
                wallSeconds);
    }

    static double quantile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
