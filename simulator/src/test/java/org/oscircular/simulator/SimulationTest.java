package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class SimulationTest {

    static Simulation run(String yaml) {
        Scenario sc = ScenarioLoader.parse("test", yaml, Map.of()).getFirst();
        Simulation sim = new Simulation(sc);
        sim.schedule();
        sim.run();
        return sim;
    }

    private static final String SMALL = """
            sites: {count: 4, clients-per-site: 12}
            image: {blocks: 2000, boot-blocks: 120}
            clients: {boot-window: 30s}
            """;

    @Test
    void aSingleClientOnThePureOriginMatchesTheClosedForm() {
        Simulation sim = run("""
                sites: {count: 1, clients-per-site: 1, wan: {down: 100Mbit, latency: 10ms}}
                origin: {bandwidth: 1Gbit, latency: 20ms}
                seeds: {per-site: 0}
                image: {blocks: 1000, boot-blocks: 100, zero-fraction: 0.0}
                clients: {boot: at-once, prefetch: 1, share: false}
                exchange: {max-lookups: 0, max-in-flight-origin: 1}
                discovery: {dht: none}
                """);
        Host client = sim.hosts()[0];
        // per block: request and response each cross 10 ms + 20 ms, then 256 KiB at 100 Mbit/s
        double expected = 100 * (2 * 0.030 + 262_144 * 8 / 100e6);
        assertTrue(client.done && !client.failed);
        assertEquals(expected, (client.doneAt - client.wantedAt) / 1e9, expected * 1e-6);
        assertEquals(100L * 262_144, client.bytesFrom[Source.ORIGIN.ordinal()]);
    }

    @Test
    void manyClientsOnASaturatedOriginFinishInRoundsOfSharedCapacityPlusRoundTrip() {
        Simulation sim = run("""
                sites: {count: 20, clients-per-site: 1, wan: {down: 1Gbit, latency: 10ms}}
                origin: {bandwidth: 200Mbit, latency: 20ms}
                seeds: {per-site: 0}
                image: {blocks: 1000, boot-blocks: 200, zero-fraction: 0.0}
                clients: {boot: at-once, prefetch: 16, share: false}
                exchange: {max-lookups: 0, origin-hedge-delay: 1h}
                discovery: {dht: none}
                """);
        double totalBytes = 20.0 * 200 * 262_144;
        // Clients start together and stay in lockstep: 200 blocks / 4 origin slots = 50 rounds; in each round the
        // 80 outstanding blocks share the origin (80 x 256 KiB at 200 Mbit/s), then every slot waits one round
        // trip (2 x (10 + 20) ms) for its next block to start flowing.
        double rounds = 200 / 4.0;
        double expected = rounds * (0.060 + 80 * 262_144 * 8 / 200e6);
        double last = 0;
        for (Host h : sim.hosts()) {
            assertTrue(h.done && !h.failed);
            last = Math.max(last, h.doneAt / 1e9);
        }
        assertEquals(expected, last, expected * 1e-4);
        assertEquals((long) totalBytes, sim.recorder().originSent);
    }

    @Test
    void theSameSeedGivesTheSameOutputBytes(@TempDir Path tmp) throws Exception {
        String yaml = SMALL + "churn: {enabled: true, mean-session: 20s, mean-downtime: 2s}\n"
                + "clients: {boot-window: 30s, bad-fraction: 0.1}\n";
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        Path c = tmp.resolve("c");
        for (Path dir : new Path[] {a, b}) {
            Simulation sim = run(yaml);
            Reports.write(sim, RunResult.of(sim, 0), dir);
        }
        Simulation other = run(yaml.replace("sites:", "seed: 2\nsites:"));
        Reports.write(other, RunResult.of(other, 0), c);
        for (String file : new String[] {"boot-times.csv", "traffic.csv", "lookups.csv", "summary.json", "report.html"}) {
            assertArrayEquals(Files.readAllBytes(a.resolve(file)), Files.readAllBytes(b.resolve(file)), file);
        }
        assertFalse(Files.readString(a.resolve("boot-times.csv")).equals(Files.readString(c.resolve("boot-times.csv"))));
    }

    @Test
    void everyByteSentIsReceived() {
        Simulation sim = run(SMALL + "churn: {enabled: true, mean-session: 15s, mean-downtime: 3s}\n");
        Recorder r = sim.recorder();
        long fromHosts = 0;
        long delivered = 0;
        for (Host h : sim.hosts()) {
            for (long b : h.bytesFrom) {
                fromHosts += b;
            }
            delivered += h.bytesFrom[0] + h.bytesFrom[1] + h.bytesFrom[2] + h.bytesFrom[3];
        }
        assertEquals(r.originSent + r.hostsSent, r.received);
        assertEquals(r.received, fromHosts);
        long seriesTotal = 0;
        long seriesOrigin = 0;
        for (int i = 0; i < r.bucketCount(); i++) {
            seriesTotal += r.bucketAt(i)[2] + r.bucketAt(i)[3];
            seriesOrigin += r.bucketAt(i)[0];
        }
        assertEquals(r.received, seriesTotal);
        assertEquals(r.originSent, seriesOrigin);
        long bootBytes = sim.workload().bootBytes();
        for (Host h : sim.hosts()) {
            if (!h.seed && h.done && !h.failed) {
                assertTrue(h.bytesFrom[0] + h.bytesFrom[1] + h.bytesFrom[2] + h.bytesFrom[3] >= bootBytes,
                        "client " + h.id + " booted without receiving its boot set");
            }
        }
        assertTrue(delivered > 0);
    }

    @Test
    void lanSharingCutsOriginEgressToAboutOneCopyPerSite() {
        String base = """
                sites: {count: 3, clients-per-site: 20}
                seeds: {per-site: 0}
                image: {blocks: 2000, boot-blocks: 100, zero-fraction: 0.0}
                clients: {boot-window: 60s, share: %s}
                discovery: {dht: none}
                """;
        Simulation shared = run(base.formatted("true"));
        Simulation alone = run(base.formatted("false"));
        long bootBytes = shared.workload().bootBytes();
        assertEquals(60, RunResult.of(shared, 0).booted());
        assertEquals(60L * bootBytes, alone.recorder().originSent);
        assertTrue(shared.recorder().originSent < 3 * bootBytes * 1.5,
                "origin sent " + shared.recorder().originSent + " for 3 sites of " + bootBytes);
    }

    @Test
    void clientsInNeverOriginModeBootFromSeedsAndPeersOnly() {
        Simulation sim = run(SMALL + "exchange: {origin-mode: never}\nclients: {boot-window: 30s, boot-start: 60s}\n");
        long clientOrigin = 0;
        for (Host h : sim.hosts()) {
            if (!h.seed) {
                clientOrigin += h.bytesFrom[Source.ORIGIN.ordinal()];
                assertTrue(h.done && !h.failed, "client " + h.id + " did not boot");
            }
        }
        assertEquals(0, clientOrigin);
        assertTrue(sim.recorder().originSent > 0, "seeds preheat from the origin");
    }

    @Test
    void peersServingBadBlocksAreBannedAndEveryoneStillBoots() {
        Simulation sim = run(SMALL + "clients: {boot-window: 30s, bad-fraction: 0.2}\n");
        RunResult result = RunResult.of(sim, 0);
        assertEquals(result.clients(), result.booted());
        assertTrue(sim.recorder().badBlocks > 0);
        assertTrue(sim.recorder().bans > 0);
    }

    @Test
    void clientsOfOtherSitesFindSeedsThroughTheKademliaDht() {
        Simulation sim = run("""
                sites: {count: 30, clients-per-site: 3}
                seeds: {per-site: 1, preheat: boot}
                image: {blocks: 2000, boot-blocks: 60}
                clients: {boot-window: 60s, boot-start: 30s}
                discovery: {dht: kademlia, lan-max-providers: 0}
                """);
        RunResult result = RunResult.of(sim, 0);
        assertEquals(90, result.booted());
        Recorder r = sim.recorder();
        assertTrue(r.lookups > 0);
        long withHops = 0;
        for (int h = 1; h < r.lookupHops.length; h++) {
            withHops += r.lookupHops[h];
        }
        assertTrue(withHops > 0, "lookups reached DHT servers");
        // with no LAN holders listed, clients find their site's seed (or others) through the DHT, not the origin
        long clientOrigin = 0;
        for (Host h : sim.hosts()) {
            if (!h.seed) {
                clientOrigin += h.bytesFrom[Source.ORIGIN.ordinal()];
            }
        }
        assertTrue(clientOrigin < r.originSent / 10, "clients took " + clientOrigin + " of " + r.originSent);
    }

    @Test
    void theRegionSweepAnnouncesWithFewerMessagesThanPerKeyAnnouncing() {
        String yaml = """
                sites: {count: 16, clients-per-site: 2}
                seeds: {per-site: 1, preheat: boot}
                image: {blocks: 4000, boot-blocks: 100}
                clients: {boot-window: 60s, boot-start: 120s}
                discovery: {dht: kademlia, announce: %s}
                """;
        Simulation sweep = run(yaml.formatted("sweep"));
        Simulation perKey = run(yaml.formatted("per-key"));
        for (Simulation sim : new Simulation[] {sweep, perKey}) {
            assertEquals(32, RunResult.of(sim, 0).booted());
            assertEquals(16, sim.recorder().announcesDone, "every seed finished announcing");
            assertEquals(16L * sim.workload().bootBytes() / 262_144, sim.recorder().announceKeys);
        }
        assertTrue(sweep.recorder().announceRpcs * 3 < perKey.recorder().announceRpcs,
                sweep.recorder().announceRpcs + " vs " + perKey.recorder().announceRpcs);
    }

    @Test
    @Timeout(value = 50, unit = TimeUnit.SECONDS)
    void tenThousandNodesBootInASmokeRun() {
        Simulation sim = run("""
                sites: {count: 100, clients-per-site: 99}
                seeds: {per-site: 1}
                image: {blocks: 4096, boot-blocks: 48}
                clients: {boot-window: 5min}
                """);
        RunResult result = RunResult.of(sim, 0);
        assertEquals(10_000, sim.hosts().length);
        assertEquals(9_900, result.booted());
        assertEquals(sim.recorder().originSent + sim.recorder().hostsSent, sim.recorder().received);
    }
}
