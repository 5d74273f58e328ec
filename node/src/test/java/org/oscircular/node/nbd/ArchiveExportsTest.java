package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
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
  void theFirstClientOfAFreshServerIsToldTheTablesBlockSize() throws Exception {
    try (var c = new RawNbdClient(nbd.address()).handshake()) {
      RawNbdClient.InfoAnswer info = c.info(NbdWire.OPT_INFO, "debian:12.7");
      assertEquals(NbdWire.REP_ACK, info.last().type());
      assertEquals(BLOCK, info.preferredBlockSize());
      RawNbdClient.InfoAnswer go = c.info(NbdWire.OPT_GO, "debian:12.7");
      assertEquals(NbdWire.REP_ACK, go.last().type());
      assertEquals(BLOCK, go.preferredBlockSize());
      c.request(0, NbdWire.CMD_READ, 1, BLOCK - 100, 300);
      assertEquals(new RawNbdClient.SimpleReply(0, 1), c.readSimpleReply());
      assertArrayEquals(Arrays.copyOfRange(v1, BLOCK - 100, BLOCK + 200), c.readBytes(300));
    }
  }

  @Test
  void nbdinfoAsTheFirstClientOfAFreshServerShowsTheTablesBlockSizeAsPreferred() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--json", base + "debian:12.8");
    assertTrue(out.replaceAll("\\s+", "").contains("\"block_size_preferred\":" + BLOCK), out);
  }

  @Test
  void messagesSentBehindTheFirstGoAreAnsweredInOrderOnceTheTableIsLoaded() throws Exception {
    try (var c = new RawNbdClient(nbd.address()).handshake()) {
      c.send(RawNbdClient.option(NbdWire.OPT_INFO, RawNbdClient.infoData("debian:12.8", NbdWire.INFO_BLOCK_SIZE)),
          RawNbdClient.option(NbdWire.OPT_GO, RawNbdClient.infoData("debian:12.8", NbdWire.INFO_BLOCK_SIZE)),
          RawNbdClient.requestBytes(0, NbdWire.CMD_READ, 7, 3L * BLOCK + 5, 4000));
      RawNbdClient.InfoAnswer info = c.readInfoAnswer();
      assertEquals(NbdWire.OPT_INFO, info.last().option());
      assertEquals(NbdWire.REP_ACK, info.last().type());
      assertEquals(BLOCK, info.preferredBlockSize());
      RawNbdClient.InfoAnswer go = c.readInfoAnswer();
      assertEquals(NbdWire.OPT_GO, go.last().option());
      assertEquals(NbdWire.REP_ACK, go.last().type());
      assertEquals(BLOCK, go.preferredBlockSize());
      assertEquals(new RawNbdClient.SimpleReply(0, 7), c.readSimpleReply());
      assertArrayEquals(Arrays.copyOfRange(v2, 3 * BLOCK + 5, 3 * BLOCK + 4005), c.readBytes(4000));
    }
  }

  /**
   * With the table neither cached nor fetchable, NBD_OPT_GO still enters transmission (the signed catalog
   * gives the size), with the 4096 fallback as preferred block size; reads fail with NBD_EIO until the
   * table can be fetched, then work on the same connection.
   */
  @Test
  void aVersionWhoseTableCannotBeFetchedIsEnteredWithTheFallbackAndReadsWorkOnceTheTableIsBack()
      throws Exception {
    Path table = origin.root().resolve(OriginLayout.table("debian", "12.8"));
    Path away = tmp.resolve("table-away");
    Files.move(table, away);
    try (var c = new RawNbdClient(nbd.address()).handshake()) {
      RawNbdClient.InfoAnswer go = c.info(NbdWire.OPT_GO, "debian:12.8");
      assertEquals(NbdWire.REP_ACK, go.last().type());
      assertEquals(4096, go.preferredBlockSize());
      c.request(0, NbdWire.CMD_READ, 1, 0, 4096);
      assertEquals(new RawNbdClient.SimpleReply(NbdWire.EIO, 1), c.readSimpleReply());

      Files.move(away, table);
      c.request(0, NbdWire.CMD_READ, 2, 0, 4096);
      assertEquals(new RawNbdClient.SimpleReply(0, 2), c.readSimpleReply());
      assertArrayEquals(Arrays.copyOfRange(v2, 0, 4096), c.readBytes(4096));
    }
    try (var c = new RawNbdClient(nbd.address()).handshake()) {
      assertEquals(BLOCK, c.info(NbdWire.OPT_GO, "debian:12.8").preferredBlockSize());
    }
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
