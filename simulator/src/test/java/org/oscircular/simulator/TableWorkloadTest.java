package org.oscircular.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.PublisherKey;

class TableWorkloadTest {
    private static final int BLOCK = 64 * 1024;

    /** A signed table of 40 blocks: every fourth zero, stored lengths 1000 + index, boot profile 30, 2, 5, 8, 2. */
    private static PublisherKey.Private writeTable(Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        List<BlockEntry> blocks = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            if (i % 4 == 0) {
                blocks.add(BlockEntry.Zero.INSTANCE);
            } else {
                byte[] sha1 = new byte[20];
                byte[] sha256 = new byte[32];
                r.nextBytes(sha1);
                r.nextBytes(sha256);
                blocks.add(new BlockEntry.Stored(new BlockName(sha1), sha256, 1000 + i));
            }
        }
        ImageTable table = new ImageTable("lab", "1", BLOCK, Codec.ZSTD, Instant.parse("2026-01-01T00:00:00Z"),
                Instant.parse("2027-01-01T00:00:00Z"), new Blob(40L * BLOCK, blocks), Map.of(), Map.of(),
                List.of(30, 2, 5, 8, 2));
        PublisherKey.Private key = PublisherKey.Private.generate(r);
        Files.write(dir.resolve("lab.table"), Documents.signTable(table, key));
        Files.writeString(dir.resolve("trust"), key.publicKey().toText("test") + "\n");
        return key;
    }

    @Test
    void bootsTheProfileOfAPublishedTableMovingItsStoredLengths(@TempDir Path dir) throws Exception {
        writeTable(dir);
        Path scenario = dir.resolve("s.yaml");
        Files.writeString(scenario, """
                sites: {count: 2, clients-per-site: 3}
                seeds: {per-site: 0}
                image: {table: lab.table, trust: trust}
                clients: {share: false}
                discovery: {dht: none}
                """);
        Scenario sc = ScenarioLoader.load(scenario, Map.of()).getFirst();
        Simulation sim = new Simulation(sc);
        sim.schedule();
        sim.run();
        assertEquals(BLOCK, sim.workload().blockSize());
        // profile 30, 2, 5, 8: block 8 is zero, 2 is read twice -> 30, 2, 5 fetched
        long expected = (1000 + 30) + (1000 + 2) + (1000 + 5);
        assertEquals(expected, sim.workload().bootBytes());
        for (Host h : sim.hosts()) {
            assertTrue(h.done && !h.failed);
            assertEquals(expected, h.bytesFrom[Source.ORIGIN.ordinal()]);
        }
    }

    @Test
    void refusesATableSignedByAnUntrustedKey(@TempDir Path dir) throws Exception {
        writeTable(dir);
        PublisherKey.Private other = PublisherKey.Private.generate(new SplittableRandom(9));
        Files.writeString(dir.resolve("trust"), other.publicKey().toText("other") + "\n");
        Path scenario = dir.resolve("s.yaml");
        Files.writeString(scenario, "image: {table: lab.table, trust: trust}\n");
        Scenario sc = ScenarioLoader.load(scenario, Map.of()).getFirst();
        var e = assertThrows(ScenarioException.class, () -> new Simulation(sc));
        assertTrue(e.getMessage().startsWith("image.table: ") && e.getMessage().contains("untrusted"), e.getMessage());
    }
}
