package org.oscircular.simulator;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Writes the files of one run: boot-times.csv, traffic.csv, lookups.csv, summary.json and a self-contained
 * report.html (inline SVG, no scripts). Nothing in them depends on the wall clock, so the same seed gives the same
 * bytes.
 */
final class Reports {
    private Reports() {}

    static void write(Simulation sim, RunResult result, Path dir) throws IOException {
        Files.createDirectories(dir);
        writeBootTimes(sim, dir.resolve("boot-times.csv"));
        writeTraffic(sim, dir.resolve("traffic.csv"));
        writeLookups(sim, dir.resolve("lookups.csv"));
        writeSummary(sim, result, dir.resolve("summary.json"));
        writeHtml(sim, result, dir.resolve("report.html"));
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
    }

    static void writeBootTimes(Simulation sim, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("host,site,role,status,attempts,wanted_s,done_s,duration_s,lan_peer_bytes,lan_seed_bytes,"
                    + "remote_bytes,origin_bytes\n");
            for (Host h : sim.hosts()) {
                String status = h.done ? (h.failed ? "failed" : "ok") : (h.wantedAt < 0 ? "not-started" : "unfinished");
                w.write(h.id + "," + h.site + "," + (h.seed ? "seed" : "client") + "," + status + "," + h.attempts + ","
                        + (h.wantedAt < 0 ? "" : f(h.wantedAt / 1e9)) + "," + (h.done ? f(h.doneAt / 1e9) : "") + ","
                        + (h.done && h.wantedAt >= 0 ? f((h.doneAt - h.wantedAt) / 1e9) : "") + ","
                        + h.bytesFrom[0] + "," + h.bytesFrom[1] + "," + h.bytesFrom[2] + "," + h.bytesFrom[3] + "\n");
            }
        }
    }

    static void writeTraffic(Simulation sim, Path file) throws IOException {
        Recorder r = sim.recorder();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("t_s," + String.join("_bytes,", Recorder.SERIES) + "_bytes\n");
            for (int i = 0; i < r.bucketCount(); i++) {
                long[] b = r.bucketAt(i);
                w.write(f(i * r.interval() / 1e9) + "," + b[0] + "," + b[1] + "," + b[2] + "," + b[3] + "\n");
            }
        }
    }

    static void writeLookups(Simulation sim, Path file) throws IOException {
        Recorder r = sim.recorder();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("hops,lookups,mean_latency_ms\n");
            for (int h = 0; h < r.lookupHops.length; h++) {
                if (r.lookupHops[h] > 0) {
                    w.write(h + "," + r.lookupHops[h] + "," + f(r.lookupNanosByHops[h] / 1e6 / r.lookupHops[h]) + "\n");
                }
            }
        }
    }

    static void writeSummary(Simulation sim, RunResult x, Path file) throws IOException {
        Recorder r = sim.recorder();
        String json = "{\n"
                + "  \"scenario\": \"" + x.name().replace("\\", "\\\\").replace("\"", "\\\"") + "\",\n"
                + "  \"seed\": " + x.seed() + ",\n"
                + "  \"clients\": " + x.clients() + ",\n"
                + "  \"booted\": " + x.booted() + ",\n"
                + "  \"failed\": " + x.failed() + ",\n"
                + "  \"boot_seconds\": {\"p50\": " + j(x.bootP50()) + ", \"p90\": " + j(x.bootP90()) + ", \"p99\": "
                + j(x.bootP99()) + ", \"max\": " + j(x.bootMax()) + "},\n"
                + "  \"all_booted_at_seconds\": " + j(x.allBootedAt()) + ",\n"
                + "  \"bytes\": {\"origin\": " + x.originBytes() + ", \"seed\": " + x.seedBytes() + ", \"wan\": "
                + x.wanBytes() + ", \"lan\": " + x.lanBytes() + ", \"sent\": " + (r.originSent + r.hostsSent)
                + ", \"received\": " + r.received + "},\n"
                + "  \"origin_bytes_per_distinct_byte\": " + j(x.originPerImage()) + ",\n"
                + "  \"dht\": {\"lookups\": " + x.lookups() + ", \"mean_latency_ms\": " + j(x.meanLookupMillis())
                + ", \"p50_latency_ms\": " + j(r.lookupLatencyQuantileMs(0.5)) + ", \"p99_latency_ms\": "
                + j(r.lookupLatencyQuantileMs(0.99)) + ", \"mean_hops\": " + j(meanHops(r)) + "},\n"
                + "  \"announce\": {\"runs\": " + r.announcesDone + ", \"keys\": " + r.announceKeys
                + ", \"lookups\": " + r.announceLookups + ", \"rpcs\": " + r.announceRpcs
                + ", \"mean_seconds\": " + j(r.announcesDone == 0 ? Double.NaN : r.announceMillis / 1e3 / r.announcesDone)
                + "},\n"
                + "  \"exchange\": {\"bad_blocks\": " + r.badBlocks + ", \"disconnects\": " + r.disconnects
                + ", \"bans\": " + r.bans + ", \"dont_have\": " + r.dontHaves + ", \"failed_requests\": "
                + r.failedRequests + ", \"fetch_through\": " + r.fetchThroughs
                + ", \"fetching_notices\": " + r.fetchingNotices + ", \"unavailable\": " + r.unavailable + "},\n"
                + "  \"events\": " + x.events() + ",\n"
                + "  \"simulated_seconds\": " + j(sim.now() / 1e9) + "\n"
                + "}\n";
        Files.writeString(file, json, StandardCharsets.UTF_8);
    }

    private static double meanHops(Recorder r) {
        long n = 0;
        long sum = 0;
        for (int h = 0; h < r.lookupHops.length; h++) {
            n += r.lookupHops[h];
            sum += (long) h * r.lookupHops[h];
        }
        return n == 0 ? Double.NaN : (double) sum / n;
    }

    private static String j(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format(Locale.ROOT, "%.6f", v);
    }

    static void writeHtml(Simulation sim, RunResult x, Path file) throws IOException {
        List<double[]> cdf = new ArrayList<>();
        double[] d = Arrays.stream(sim.hosts()).filter(h -> !h.seed && h.done && !h.failed)
                .mapToDouble(h -> (h.doneAt - h.wantedAt) / 1e9).sorted().toArray();
        for (int i = 0; i < d.length; i++) {
            cdf.add(new double[] {d[i], (i + 1.0) / Math.max(1, x.clients())});
        }
        Recorder r = sim.recorder();
        String[] colors = {"#d62728", "#2ca02c", "#ff7f0e", "#1f77b4"};
        List<List<double[]>> series = new ArrayList<>();
        for (int s = 0; s < Recorder.SERIES.length; s++) {
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < r.bucketCount(); i++) {
                pts.add(new double[] {i * r.interval() / 1e9, r.bucketAt(i)[s] * 8 / (r.interval() / 1e9) / 1e9});
            }
            series.add(pts);
        }
        StringBuilder html = new StringBuilder();
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>")
                .append(esc(x.name())).append("</title><style>body{font-family:sans-serif;margin:2em}"
                        + "td,th{padding:2px 10px;text-align:right}</style></head><body>");
        html.append("<h1>Rollout simulation: ").append(esc(x.name())).append(" (seed ").append(x.seed()).append(")</h1>");
        html.append("<table><tr><th>clients</th><th>booted</th><th>boot p50</th><th>p90</th><th>p99</th>"
                + "<th>origin</th><th>WAN</th><th>LAN</th><th>origin / distinct bytes</th></tr><tr>")
                .append("<td>").append(x.clients()).append("</td><td>").append(x.booted()).append("</td><td>")
                .append(String.format(Locale.ROOT, "%.2f s", x.bootP50())).append("</td><td>")
                .append(String.format(Locale.ROOT, "%.2f s", x.bootP90())).append("</td><td>")
                .append(String.format(Locale.ROOT, "%.2f s", x.bootP99())).append("</td><td>")
                .append(Units.formatBytes(x.originBytes())).append("</td><td>").append(Units.formatBytes(x.wanBytes()))
                .append("</td><td>").append(Units.formatBytes(x.lanBytes())).append("</td><td>")
                .append(String.format(Locale.ROOT, "%.3f", x.originPerImage())).append("</td></tr></table>");
        html.append("<h2>Boot completion time (CDF over clients)</h2>");
        html.append(Svg.plot(List.of(cdf), new String[] {"#1f77b4"}, new String[] {"booted"}, "boot duration (s)",
                "fraction of clients"));
        html.append("<h2>Traffic over time</h2>");
        html.append(Svg.plot(series, colors, Recorder.SERIES, "time (s)", "Gbit/s"));
        html.append("</body></html>\n");
        Files.writeString(file, html.toString(), StandardCharsets.UTF_8);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
