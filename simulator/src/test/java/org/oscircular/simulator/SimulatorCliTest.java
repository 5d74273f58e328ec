package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SimulatorCliTest {

    private static int run(PrintStream out, StringWriter err, String... args) {
        CommandLine cmd = new CommandLine(new SimulatorCli(out));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println("circular-sim: " + e.getMessage());
            return 2;
        });
        return cmd.execute(args);
    }

    @Test
    void runsASweepWithReplicationsAndWritesEveryRunsFiles(@TempDir Path dir) throws Exception {
        Path scenario = dir.resolve("sweep.yaml");
        Files.writeString(scenario, """
                sites: {count: 2, clients-per-site: 4}
                image: {blocks: 500, boot-blocks: 20}
                clients: {boot-window: 10s}
                replications: 2
                sweep:
                  clients.share: [true, false]
                """);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        int code = run(new PrintStream(console, true, StandardCharsets.UTF_8), new StringWriter(),
                scenario.toString(), "-o", dir.resolve("out").toString(), "--no-progress");
        assertEquals(0, code);
        String text = console.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("sweep,clients.share=true") && text.contains("±"), text);
        assertEquals(5, Files.readAllLines(dir.resolve("out/runs.csv")).size());
        for (String variant : new String[] {"sweep_clients.share=true", "sweep_clients.share=false"}) {
            for (String seed : new String[] {"seed-1", "seed-2"}) {
                Path run = dir.resolve("out").resolve(variant).resolve(seed);
                assertTrue(Files.exists(run.resolve("report.html")), run.toString());
                assertTrue(Files.readString(run.resolve("report.html")).contains("<svg"));
            }
        }
    }

    @Test
    void reportsABadScenarioInOneLineNamingTheSetting(@TempDir Path dir) throws Exception {
        Path scenario = dir.resolve("bad.yaml");
        Files.writeString(scenario, "sites: {count: -3}\n");
        StringWriter err = new StringWriter();
        int code = run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), err,
                scenario.toString(), "-o", dir.resolve("out").toString());
        assertEquals(2, code);
        assertEquals("circular-sim: sites.count must be an integer of at least 1, got -3", err.toString().strip());
    }
}
