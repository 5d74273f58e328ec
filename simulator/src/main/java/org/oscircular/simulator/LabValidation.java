package org.oscircular.simulator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Replays runs of the real lab (the node's lab benchmark: N {@code circular node} processes in network namespaces
 * read a whole published image at once from an nginx origin shaped with {@code tc tbf}) in the simulator, and
 * prints the error of the simulated completion time and origin egress against the measured ones.
 *
 * <p>The scenario is the lab: one site of N clients, no seeds, an origin link of the shaped rate, the node's
 * readahead (8 blocks + the one being read) and origin concurrency (4), the published table itself (its block
 * sizes, stored lengths and names), every block read in order. The origin link moves payload at the {@code tc}
 * rate times the TCP payload share of an Ethernet frame (1448 of 1514 bytes with TCP timestamps: {@code tbf}
 * shapes whole frames, the model moves payload). Nothing is fitted to the measurements.
 *
 * <p>Usage: {@code LabValidation DIR} where DIR holds what the lab benchmark wrote with {@code -Dbench.out=DIR}.
 */
public final class LabValidation {
    /** Payload bytes per Ethernet frame of a full TCP segment with timestamps: MSS 1448 of 1514 bytes. */
    static final double WIRE_EFFICIENCY = 1448.0 / 1514.0;

    private LabValidation() {}

    /** One measured lab run: clients, exchange ({@code alone}, {@code on}, {@code off}), seconds, egress/image. */
    record LabRun(int clients, String exchange, double seconds, double egressPerImage) {
        boolean share() {
            return exchange.equals("on");
        }
    }

    /** A lab run and its simulation. */
    record Comparison(LabRun real, double simSeconds, double simEgressPerImage) {
        double timeError() {
            return simSeconds / real.seconds - 1;
        }

        double egressError() {
            return simEgressPerImage / real.egressPerImage - 1;
        }
    }

    /** Simulates one lab run at an origin payload rate: every client reads the whole image at once. */
    static RunResult simulate(Path table, Path trust, double originBitsPerSecond, int clients, boolean share) {
        return simulate(table, trust, originBitsPerSecond, clients, share, "60s");
    }

    /**
     * As above, with {@code exchange.max-fetching-wait} set: {@code 0s} makes the exchange ignore Fetching notices,
     * as nodes did before them.
     */
    static RunResult simulate(Path table, Path trust, double originBitsPerSecond, int clients, boolean share,
            String maxFetchingWait) {
        String yaml = String.format(Locale.ROOT, """
                sites: {count: 1, clients-per-site: %d, lan: {host-bandwidth: 10Gbit, latency: 50us},
                        wan: {down: 10Gbit, up: 10Gbit, latency: 50us}}
                origin: {bandwidth: %.0fbit, latency: 1ms}
                seeds: {per-site: 0}
                image: {table: "%s", trust: "%s", boot-blocks: 16384, blocks: 16384}
                clients: {boot: at-once, prefetch: 9, share: %s}
                exchange: {max-in-flight-origin: 4, request-timeout: 5s, origin-hedge-delay: 8s,
                           fetching-interval: 2500ms, max-fetching-wait: %s}
                discovery: {dht: none}
                output: {interval: 1s}
                """, clients, originBitsPerSecond, table.toAbsolutePath(), trust.toAbsolutePath(), share,
                maxFetchingWait);
        Scenario sc = ScenarioLoader.parse("lab", yaml, Map.of()).getFirst();
        Simulation sim = new Simulation(sc);
        sim.schedule();
        sim.run();
        return RunResult.of(sim, 0);
    }

    /** Compares every run of a lab benchmark output directory with its simulation. */
    static List<Comparison> compare(Path dir, List<LabRun> runs, double tcBitsPerSecond) {
        Path table = dir.resolve("bench.table");
        Path trust = dir.resolve("trust");
        double rate = tcBitsPerSecond * WIRE_EFFICIENCY;
        List<Comparison> out = new ArrayList<>();
        for (LabRun r : runs) {
            RunResult sim = simulate(table, trust, rate, r.clients(), r.share());
            out.add(new Comparison(r, sim.allBootedAt(), sim.originPerImage()));
        }
        return out;
    }

    static List<LabRun> readRuns(Path csv) throws IOException {
        List<LabRun> runs = new ArrayList<>();
        for (String line : Files.readAllLines(csv)) {
            String[] f = line.split(",");
            if (f.length != 4 || f[0].equals("clients")) {
                continue;
            }
            runs.add(new LabRun(Integer.parseInt(f[0]), f[1], Double.parseDouble(f[2]), Double.parseDouble(f[3])));
        }
        return runs;
    }

    static Properties readProperties(Path dir) throws IOException {
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(dir.resolve("lab.properties"))) {
            p.load(in);
        }
        return p;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: LabValidation DIR (the output of the lab benchmark with -Dbench.out=DIR)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Properties p = readProperties(dir);
        double tc = Units.bitsPerSecond("origin-rate", p.getProperty("origin-rate"));
        List<Comparison> rows = compare(dir, readRuns(dir.resolve("lab.csv")), tc);
        System.out.printf(Locale.ROOT, "lab vs simulator: origin %s (tc; payload %.2f Mbit/s), %.2f MiB stored blocks, "
                + "tbf queue %s; lab load average %s%n", p.getProperty("origin-rate"), tc * WIRE_EFFICIENCY / 1e6,
                Double.parseDouble(p.getProperty("stored-bytes")) / 1048576.0, p.getProperty("tbf-latency", "?"),
                p.getProperty("load-average", "?"));
        System.out.printf(Locale.ROOT, "%-8s %-9s %9s %9s %8s %10s %10s %8s%n", "clients", "exchange", "real s",
                "sim s", "error", "real egr", "sim egr", "error");
        double worstTime = 0;
        double worstEgress = 0;
        for (Comparison c : rows) {
            System.out.printf(Locale.ROOT, "%-8d %-9s %9.2f %9.2f %7.1f%% %10.2f %10.2f %7.1f%%%n",
                    c.real().clients(), c.real().exchange(), c.real().seconds(), c.simSeconds(), 100 * c.timeError(),
                    c.real().egressPerImage(), c.simEgressPerImage(), 100 * c.egressError());
            worstTime = Math.max(worstTime, Math.abs(c.timeError()));
            worstEgress = Math.max(worstEgress, Math.abs(c.egressError()));
        }
        System.out.printf(Locale.ROOT, "largest |error|: completion time %.1f%%, origin egress %.1f%%%n",
                100 * worstTime, 100 * worstEgress);
    }
}
