package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;

/** Image versions of a published archive, served over NBD through the verifying block cache. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ArchiveExportsTest {
  static final Duration T = Duration.ofSeconds(60);
  static final int BLOCK = 65_536;

  @TempDir Path tmp;
  OriginFixture origin;
  ArchiveNbdFixture nbd;
  String base;
  byte[] v1;
  byte[] v2;
  ImageTable broken;

  @BeforeEach
  void publishAndServe() throws IOException {
    Exec.require("nbdinfo", "libnbd-bin");
    Exec.require("nbdcopy", "libnbd-bin");
    origin = new OriginFixture(tmp.resolve("origin"), 5);
    v1 = OriginFixture.image(BLOCK * 40 + 4096, BLOCK, 1);
    v2 = OriginFixture.image(BLOCK * 48, BLOCK, 2);
    origin.publish("debian", "12.7", v1, BLOCK, Codec.ZSTD, List.of());
    origin.publish("debian", "12.8", v2, BLOCK, Codec.NONE, List.of());
    broken = origin.publish("alpine", "3.20", OriginFixture.image(BLOCK * 8, BLOCK, 3), BLOCK,
        Codec.ZSTD, List.of());
    nbd = new ArchiveNbdFixture(tmp.resolve("cache"), CacheConfig.withMaxBytes(256L << 20),
        Executors.newFixedThreadPool(4));
    var fetch = FetchConfig.defaults().withTimeout(Duration.ofSeconds(5))
        .withRounds(2, Duration.ofMillis(10));
    base = nbd.serve(new ArchiveExports(nbd.archive(origin, fetch)));
  }

  @AfterEach
  void stop() throws Exception {
    nbd.close();
  }

  @Test
  void listsEveryVersionAsImageColonVersion() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--list", base);
    for (String name : List.of("debian:12.7", "debian:12.8", "alpine:3.20")) {
      assertTrue(out.contains(name), out);
    }
  }

  @Test
  void nbdcopyOfEachVersionEqualsItsImage() throws Exception {
    Path a = tmp.resolve("a.img");
    Path b = tmp.resolve("b.img");
    Exec.ok(T, "nbdcopy", base + "debian:12.7", a.toString());
    Exec.ok(T, "nbdcopy", base + "debian:12.8", b.toString());
    assertArrayEquals(v1, Files.readAllBytes(a));
    assertArrayEquals(v2, Files.readAllBytes(b));
  }

  @Test
  void aBlockCorruptedOnTheOriginIsNeverServed() throws Exception {
    var stored = (BlockEntry.Stored) broken.image().blocks().stream()
        .filter(e -> e instanceof BlockEntry.Stored).skip(2).findFirst().orElseThrow();
    Path file = origin.root().resolve(OriginLayout.block(stored.name()));
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x40;
    Files.write(file, bytes);

    Exec.Result r = Exec.run(T, "nbdcopy", base + "alpine:3.20", tmp.resolve("c.img").toString());
    assertNotEquals(0, r.exit(), r.output());
    assertTrue(r.output().toLowerCase().contains("input/output error"), r.output());
    // other versions are unaffected, on the same server
    Exec.ok(T, "nbdcopy", base + "debian:12.8", tmp.resolve("d.img").toString());
    assertArrayEquals(v2, Files.readAllBytes(tmp.resolve("d.img")));
  }
}
