package org.oscircular.simulator;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code circular-sim} command: runs a scenario (with its sweep and replications) and writes the results. */
@Command(name = "circular-sim", mixinStandardHelpOptions = true, version = "circular-sim 0.1",
        description = "Simulates an OS Circular rollout: sites, clients, seeds, the origin, the DHT and the block "
                + "exchange policy of the node, on a virtual clock.")
public final class SimulatorCli implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "SCENARIO",
            description = "Scenario YAML file (settings not given take the reference defaults).")
    Path scenarioFile;

    @Option(names = {"-o", "--out"}, defaultValue = "sim-out", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting, e.g. --set sites.count=10.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--seed", description = "Override the scenario's seed.")
    Long seed;

    @Option(names = "--replications", description = "Override the number of replications.")
    Integer replications;

    @Option(names = "--no-progress", description = "Do not draw a progress bar.")
    boolean noProgress;

    @Option(names = "--print-reference", description = "Print the reference scenario (every setting and default) and exit.")
    boolean printReference;

    private final PrintStream console;

    public SimulatorCli() {
        this(System.out);
    }

    SimulatorCli(PrintStream console) {
        this.console = console;
    }

    public static void main(String[] args) {
        int code = new CommandLine(new SimulatorCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof ScenarioException || e instanceof IOException) {
                        cmd.getErr().println("circular-sim: " + e.getMessage());
                        return 2;
                    }
                    throw e;
                })
                .execute(args);
        System.exit(code);
    }

    @Override
    public Integer call() throws IOException {
        if (printReference) {
            console.print(ScenarioLoader.referenceText());
            return 0;
        }
        if (scenarioFile == null) {
            throw new ScenarioException("give a SCENARIO file (or --print-reference to see every setting)");
        }
        Map<String, String> sets = new LinkedHashMap<>(overrides);
        if (seed != null) {
            sets.put("seed", Long.toString(seed));
        }
        if (replications != null) {
            sets.put("replications", Integer.toString(replications));
        }
        List<Scenario> variants = ScenarioLoader.load(scenarioFile, sets);
        Files.createDirectories(out);
        List<List<RunResult>> all = new ArrayList<>();
        for (Scenario variant : variants) {
            List<RunResult> runs = new ArrayList<>();
            for (int r = 0; r < variant.replications(); r++) {
                Scenario sc = variant.withSeed(variant.seed() + r);
                runs.add(runOne(sc, out.resolve(dirName(sc.name())).resolve("seed-" + sc.seed())));
            }
            all.add(runs);
        }
        writeRuns(all, out.resolve("runs.csv"));
        printSummary(all);
        console.println("results in " + out.toAbsolutePath());
        return 0;
    }

    RunResult runOne(Scenario sc, Path dir) throws IOException {
        long start = System.nanoTime();
        Simulation sim = new Simulation(sc);
        sim.schedule();
        long slice = Math.max(sc.outputInterval(), sc.duration() / 2000);
        if (noProgress) {
            sim.run();
        } else {
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName(shortName(sc))
                    .setInitialMax(Math.max(1, sim.hostsToFinish())).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(500)
                    .continuousUpdate().build()) {
                long until = 0;
                while (!sim.complete()) {
                    until = Math.min(sc.duration(), until + slice);
                    sim.runUntil(until);
                    bar.stepTo(sim.finishedHosts());
                    bar.setExtraMessage("t=" + Units.formatNanos(sim.now()));
                    if (until >= sc.duration()) {
                        break;
                    }
                }
            }
        }
        double wall = (System.nanoTime() - start) / 1e9;
        RunResult result = RunResult.of(sim, wall);
        Reports.write(sim, result, dir);
        console.printf(Locale.ROOT, "%s seed %d: %d/%d clients booted, %d events in %.1f s wall (%.2f M events/s), "
                        + "simulated %s%n", sc.name(), sc.seed(), result.booted(), result.clients(), result.events(),
                wall, result.events() / wall / 1e6, Units.formatNanos(sim.now()));
        return result;
    }

    private static String shortName(Scenario sc) {
        String n = sc.name() + " s" + sc.seed();
        return n.length() > 40 ? n.substring(0, 40) : n;
    }

    static String dirName(String name) {
        return name.replaceAll("[^A-Za-z0-9._=-]", "_");
    }

    private static void writeRuns(List<List<RunResult>> all, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("scenario,seed,clients,booted,failed,boot_p50_s,boot_p90_s,boot_p99_s,boot_max_s,all_booted_s,"
                    + "origin_bytes,seed_bytes,wan_bytes,lan_bytes,origin_per_distinct_byte,lookups,events\n");
            for (List<RunResult> runs : all) {
                for (RunResult x : runs) {
                    w.write(String.format(Locale.ROOT, "\"%s\",%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%d,%d,%d,%.6f,%d,%d%n",
                            x.name(), x.seed(), x.clients(), x.booted(), x.failed(), x.bootP50(), x.bootP90(),
                            x.bootP99(), x.bootMax(), x.allBootedAt(), x.originBytes(), x.seedBytes(), x.wanBytes(),
                            x.lanBytes(), x.originPerImage(), x.lookups(), x.events()));
                }
            }
        }
    }

    private void printSummary(List<List<RunResult>> all) {
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-34s %4s", "scenario", "runs"));
        for (String m : RunResult.METRICS) {
            header.append(String.format(Locale.ROOT, " %18s", m));
        }
        console.println();
        console.println(header);
        for (List<RunResult> runs : all) {
            String name = runs.getFirst().name();
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-34s %4d",
                    name.length() > 34 ? "…" + name.substring(name.length() - 33) : name, runs.size()));
            for (int m = 0; m < RunResult.METRICS.length; m++) {
                double[] v = new double[runs.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = runs.get(i).metric(m);
                }
                Replications r = Replications.of(v);
                String cell = Double.isNaN(r.halfWidth())
                        ? String.format(Locale.ROOT, "%.3f", r.mean())
                        : String.format(Locale.ROOT, "%.3f±%.3f", r.mean(), r.halfWidth());
                row.append(String.format(Locale.ROOT, " %18s", cell));
            }
            console.println(row);
        }
        console.println("(± is the 95% confidence half-width over replications; 'all booted' is empty if some "
                + "client did not boot)");
    }
}
