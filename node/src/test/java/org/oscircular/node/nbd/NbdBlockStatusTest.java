package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.archive.OriginFixture;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.ImageTable;

/**
 * The base:allocation metadata context: LIST/SET_META_CONTEXT negotiation and NBD_CMD_BLOCK_STATUS,
 * against a byte-level client and against nbdinfo, nbdcopy and qemu-img, on an image version whose
 * table has known zero runs, and on a plain file.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBlockStatusTest {
  static final Duration T = Duration.ofSeconds(60);
  static final int BLOCK = 65_536;
  /** One letter per block: D data, Z all zeros; the image ends with a partial zero block. */
  static final String LAYOUT = "DZZZDDZDZZZZZDDDZDDZ";
  static final int TAIL = 4096 + 512;
  static final int SIZE = LAYOUT.length() * BLOCK + TAIL;
  static final String NAME = "sparse:1";

  @TempDir Path tmp;
  OriginFixture origin;
  ArchiveNbdFixture nbd;
  FileExport file;
  FileExport sparse;
  InetSocketAddress address;
  String base;
  byte[] image;
  ImageTable table;

  @BeforeEach
  void publishAndServe() throws IOException {
    Exec.require("nbdinfo", "libnbd-bin");
    Exec.require("nbdcopy", "libnbd-bin");
    Exec.require("qemu-img", "qemu-utils");
    image = new byte[SIZE];
    Random rnd = new Random(7);
    for (int i = 0; i < LAYOUT.length(); i++) {
      if (LAYOUT.charAt(i) == 'D') {
        byte[] block = new byte[BLOCK];
        rnd.nextBytes(block);
        block[0] = 1; // never all zeros
        System.arraycopy(block, 0, image, i * BLOCK, BLOCK);
      }
    }
    origin = new OriginFixture(tmp.resolve("origin"), 5);
    table = origin.publish("sparse", "1", image, BLOCK, Codec.ZSTD, List.of());
    nbd = new ArchiveNbdFixture(tmp.resolve("cache"), CacheConfig.withMaxBytes(256L << 20),
        Executors.newFixedThreadPool(4));
    var fetch = FetchConfig.defaults().withTimeout(Duration.ofSeconds(5))
        .withRounds(2, Duration.ofMillis(10));
    Archive archive = nbd.archive(origin, fetch);
    Path raw = tmp.resolve("raw.img");
    Files.write(raw, image);
    file = FileExport.open("file:1", raw);
    // the same bytes with its zero blocks left as holes: only the data blocks are written
    Path holes = tmp.resolve("sparse.img");
    try (var ch = java.nio.channels.FileChannel.open(holes, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      for (int i = 0; i < LAYOUT.length(); i++) {
        if (LAYOUT.charAt(i) == 'D') {
          ch.write(ByteBuffer.wrap(image, i * BLOCK, BLOCK), (long) i * BLOCK);
        }
      }
    }
    try (var f = new java.io.RandomAccessFile(holes.toFile(), "rw")) {
      f.setLength(SIZE);
    }
    sparse = FileExport.open("holes:1", holes);
    List<NbdExport> all = new ArrayList<>(new ArchiveExports(archive).list());
    all.add(file);
    all.add(sparse);
    base = nbd.serve(NbdExports.of(all));
    address = nbd.address();
  }

  @AfterEach
  void stop() throws Exception {
    nbd.close();
    file.close();
    sparse.close();
  }

  /** The map the layout implies: zero runs as hole|zero (3), the rest as data (0), merged. */
  static List<long[]> expectedMap() {
    String all = LAYOUT + "Z"; // the partial tail block is zeros
    List<long[]> map = new ArrayList<>();
    long pos = 0;
    int i = 0;
    while (i < all.length()) {
      int j = i;
      while (j < all.length() && all.charAt(j) == all.charAt(i)) {
        j++;
      }
      long end = Math.min(SIZE, (long) j * BLOCK);
      map.add(new long[] {pos, end - pos, all.charAt(i) == 'Z' ? 3 : 0});
      pos = end;
      i = j;
    }
    return map;
  }

  RawNbdClient structured() throws IOException {
    RawNbdClient c = new RawNbdClient(address).handshake();
    c.sendOption(NbdWire.OPT_STRUCTURED_REPLY, new byte[0]);
    assertEquals(NbdWire.REP_ACK, c.readOptionReply().type());
    return c;
  }

  /** Structured replies, base:allocation selected for {@code name}, then GO {@code name}. */
  RawNbdClient withAllocation(String name) throws IOException {
    RawNbdClient c = structured();
    var last = new RawNbdClient.OptionReply[1];
    var got = c.metaContexts(NbdWire.OPT_SET_META_CONTEXT,
        RawNbdClient.metaData(name, NbdWire.BASE_ALLOCATION), last);
    assertEquals(1, got.size());
    assertEquals(NbdWire.REP_ACK, last[0].type());
    assertEquals(NbdWire.REP_ACK, c.go(name).type());
    return c;
  }

  /** Sends NBD_CMD_BLOCK_STATUS; returns the descriptors (length, flags) of the one chunk. */
  static List<long[]> blockStatus(RawNbdClient c, int flags, long cookie, long offset, long length)
      throws IOException {
    c.request(flags, NbdWire.CMD_BLOCK_STATUS, cookie, offset, length);
    RawNbdClient.Chunk chunk = c.readChunk();
    assertEquals(cookie, chunk.cookie());
    assertEquals(NbdWire.REPLY_FLAG_DONE, chunk.flags());
    assertEquals(NbdWire.REPLY_TYPE_BLOCK_STATUS, chunk.type());
    assertEquals(4, chunk.payload().length % 8);
    ByteBuffer b = ByteBuffer.wrap(chunk.payload());
    assertEquals(NbdWire.BASE_ALLOCATION_ID, b.getInt());
    List<long[]> descriptors = new ArrayList<>();
    while (b.hasRemaining()) {
      long len = Integer.toUnsignedLong(b.getInt());
      assertTrue(len > 0, "descriptor of length 0");
      descriptors.add(new long[] {len, b.getInt()});
    }
    assertTrue(!descriptors.isEmpty());
    return descriptors;
  }

  static void assertErrorChunk(RawNbdClient c, long cookie, int error) throws IOException {
    RawNbdClient.Chunk chunk = c.readChunk();
    assertEquals(cookie, chunk.cookie());
    assertEquals(NbdWire.REPLY_TYPE_ERROR, chunk.type());
    assertEquals(error, ByteBuffer.wrap(chunk.payload()).getInt());
  }

  static String flat(List<long[]> rows) {
    StringBuilder s = new StringBuilder();
    for (long[] r : rows) {
      s.append(java.util.Arrays.toString(r));
    }
    return s.toString();
  }

  @Test
  void theTableHasTheLayoutsZeroBlocks() {
    List<BlockEntry> blocks = table.image().blocks();
    for (int i = 0; i <= LAYOUT.length(); i++) {
      boolean zero = i == LAYOUT.length() || LAYOUT.charAt(i) == 'Z';
      assertEquals(zero, blocks.get(i) instanceof BlockEntry.Zero, "block " + i);
    }
  }

  @Test
  void listNamesBaseAllocationForNoQueryTheBaseWildcardAndItsOwnName() throws IOException {
    try (var c = structured()) {
      var last = new RawNbdClient.OptionReply[1];
      for (String[] queries : List.of(new String[0], new String[] {"base:"},
          new String[] {"base:allocation"}, new String[] {"x-foo:bar", "base:", "base:allocation"})) {
        var got = c.metaContexts(NbdWire.OPT_LIST_META_CONTEXT, RawNbdClient.metaData(NAME, queries),
            last);
        assertEquals(List.of(new RawNbdClient.MetaContext(0, "base:allocation")), got,
            String.join(",", queries));
        assertEquals(NbdWire.REP_ACK, last[0].type());
        assertEquals(NbdWire.OPT_LIST_META_CONTEXT, last[0].option());
      }
    }
  }

  @Test
  void unknownNamespacesAndUnknownBaseLeavesYieldNoContext() throws IOException {
    try (var c = structured()) {
      var last = new RawNbdClient.OptionReply[1];
      for (int option : new int[] {NbdWire.OPT_LIST_META_CONTEXT, NbdWire.OPT_SET_META_CONTEXT}) {
        var got = c.metaContexts(option, RawNbdClient.metaData(NAME, "qemu:dirty-bitmap:b",
            "base:nothing", "x-base:allocation", "BASE:allocation"), last);
        assertEquals(List.of(), got);
        assertEquals(NbdWire.REP_ACK, last[0].type());
      }
      // SET with the wildcard or no queries selects nothing
      for (String[] queries : List.of(new String[] {"base:"}, new String[0])) {
        assertEquals(List.of(), c.metaContexts(NbdWire.OPT_SET_META_CONTEXT,
            RawNbdClient.metaData(NAME, queries), last));
        assertEquals(NbdWire.REP_ACK, last[0].type());
      }
      assertEquals(NbdWire.REP_ACK, c.go(NAME).type());
      c.request(0, NbdWire.CMD_BLOCK_STATUS, 9, 0, BLOCK);
      assertErrorChunk(c, 9, NbdWire.EINVAL);
    }
  }

  @Test
  void setNeedsStructuredRepliesFirstAndGivesANonzeroId() throws IOException {
    try (var c = new RawNbdClient(address).handshake()) {
      var last = new RawNbdClient.OptionReply[1];
      assertEquals(List.of(), c.metaContexts(NbdWire.OPT_SET_META_CONTEXT,
          RawNbdClient.metaData(NAME, "base:allocation"), last));
      assertEquals(NbdWire.REP_ERR_INVALID, last[0].type());
      c.sendOption(NbdWire.OPT_STRUCTURED_REPLY, new byte[0]);
      assertEquals(NbdWire.REP_ACK, c.readOptionReply().type());
      var got = c.metaContexts(NbdWire.OPT_SET_META_CONTEXT,
          RawNbdClient.metaData(NAME, "base:", "base:allocation", "x-other:thing"), last);
      assertEquals(List.of(new RawNbdClient.MetaContext(NbdWire.BASE_ALLOCATION_ID, "base:allocation")),
          got);
      assertNotEquals(0, NbdWire.BASE_ALLOCATION_ID);
      assertEquals(NbdWire.REP_ACK, last[0].type());
    }
  }

  @Test
  void unknownExportsAndMalformedDataGetErrorRepliesAndNegotiationGoesOn() throws IOException {
    try (var c = structured()) {
      var last = new RawNbdClient.OptionReply[1];
      c.metaContexts(NbdWire.OPT_LIST_META_CONTEXT, RawNbdClient.metaData("nope:1"), last);
      assertEquals(NbdWire.REP_ERR_UNKNOWN, last[0].type());
      byte[] good = RawNbdClient.metaData(NAME, "base:allocation");
      List<byte[]> bad = List.of(
          java.util.Arrays.copyOf(good, good.length - 1), // query overruns the data
          java.util.Arrays.copyOf(good, good.length + 3), // bytes after the last query
          RawNbdClient.metaData(NAME, "allocation"), // no namespace
          RawNbdClient.metaData(NAME, ":allocation"), // empty namespace
          new byte[] {0, 0, 0, 1}); // too short
      for (byte[] data : bad) {
        assertEquals(List.of(), c.metaContexts(NbdWire.OPT_SET_META_CONTEXT, data, last));
        assertEquals(NbdWire.REP_ERR_INVALID, last[0].type());
        assertEquals(NbdWire.OPT_SET_META_CONTEXT, last[0].option());
      }
      // a failed SET leaves nothing selected; a good one still works afterwards
      var got = c.metaContexts(NbdWire.OPT_SET_META_CONTEXT, good, last);
      assertEquals(1, got.size());
      assertEquals(NbdWire.REP_ACK, c.go(NAME).type());
      assertEquals(flat(List.of(new long[] {BLOCK, 0})), flat(blockStatus(c, 0, 1, 0, BLOCK)));
    }
  }

  @Test
  void blockStatusReportsTheTablesZeroRunsAsHoleZeroAndStoredBlocksAsData() throws IOException {
    try (var c = withAllocation(NAME)) {
      List<long[]> want = new ArrayList<>();
      for (long[] e : expectedMap()) {
        want.add(new long[] {e[1], e[2]});
      }
      assertEquals(flat(want), flat(blockStatus(c, 0, 1, 0, SIZE)));
      // an unaligned range inside: cut at its ends, never beyond the requested length
      long from = BLOCK + 100;
      long length = 5L * BLOCK;
      assertEquals(flat(List.of(new long[] {3L * BLOCK - 100, 3}, new long[] {2L * BLOCK, 0},
          new long[] {100, 3})), flat(blockStatus(c, 0, 2, from, length)));
      // the unaligned tail
      assertEquals(flat(List.of(new long[] {TAIL, 3})),
          flat(blockStatus(c, 0, 3, (long) LAYOUT.length() * BLOCK, TAIL)));
    }
  }

  @Test
  void reqOneGivesExactlyOneDescriptorNoLongerThanTheRequest() throws IOException {
    try (var c = withAllocation(NAME)) {
      assertEquals(flat(List.of(new long[] {BLOCK, 0})),
          flat(blockStatus(c, NbdWire.CMD_FLAG_REQ_ONE, 1, 0, SIZE)));
      assertEquals(flat(List.of(new long[] {3L * BLOCK, 3})),
          flat(blockStatus(c, NbdWire.CMD_FLAG_REQ_ONE, 2, BLOCK, 10L * BLOCK)));
      assertEquals(flat(List.of(new long[] {4096, 3})),
          flat(blockStatus(c, NbdWire.CMD_FLAG_REQ_ONE, 3, BLOCK + 512, 4096)));
    }
  }

  @Test
  void outOfRangeZeroLengthAndUnknownFlagsAreEinvalAndTheConnectionCarriesOn() throws IOException {
    try (var c = withAllocation(NAME)) {
      c.request(0, NbdWire.CMD_BLOCK_STATUS, 1, SIZE - 512, 1024);
      assertErrorChunk(c, 1, NbdWire.EINVAL);
      c.request(0, NbdWire.CMD_BLOCK_STATUS, 2, -4096L, 512); // offset 2^64-4096
      assertErrorChunk(c, 2, NbdWire.EINVAL);
      c.request(0, NbdWire.CMD_BLOCK_STATUS, 3, 0, 0);
      assertErrorChunk(c, 3, NbdWire.EINVAL);
      c.request(NbdWire.CMD_FLAG_DF, NbdWire.CMD_BLOCK_STATUS, 4, 0, 512);
      assertErrorChunk(c, 4, NbdWire.EINVAL);
      assertEquals(flat(List.of(new long[] {512, 3})),
          flat(blockStatus(c, 0, 5, SIZE - 512, 512)));
    }
  }

  @Test
  void contextsSelectedForAnotherExportDoNotCarryOver() throws IOException {
    try (var c = structured()) {
      var last = new RawNbdClient.OptionReply[1];
      c.metaContexts(NbdWire.OPT_SET_META_CONTEXT, RawNbdClient.metaData("file:1", "base:allocation"),
          last);
      assertEquals(NbdWire.REP_ACK, last[0].type());
      assertEquals(NbdWire.REP_ACK, c.go(NAME).type());
      c.request(0, NbdWire.CMD_BLOCK_STATUS, 1, 0, 512);
      assertErrorChunk(c, 1, NbdWire.EINVAL);
    }
  }

  static final Pattern MAP_LINE = Pattern.compile("^\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)\\s*$",
      Pattern.MULTILINE);

  static List<long[]> parseMap(String out) {
    List<long[]> rows = new ArrayList<>();
    Matcher m = MAP_LINE.matcher(out);
    while (m.find()) {
      long type = Long.parseLong(m.group(3));
      assertEquals(type == 3 ? "hole,zero" : "data", m.group(4), out);
      rows.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), type});
    }
    return rows;
  }

  @Test
  void nbdinfoMapShowsExactlyTheZeroRunsAsHoleZeroAndTheRestAsData() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--map", base + NAME);
    assertEquals(flat(expectedMap()), flat(parseMap(out)), out);
    Exec.ok(T, "nbdinfo", "--can", "structured-reply", base + NAME);
    String list = Exec.ok(T, "nbdinfo", "--list", base);
    assertTrue(list.replaceAll("\\s+", " ").contains("contexts: base:allocation"), list);
  }

  @Test
  void aFullyWrittenFileMapsAsOneDataExtent() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--map", base + "file:1");
    assertEquals(flat(List.of(new long[] {0, SIZE, 0})), flat(parseMap(out)), out);
  }

  @Test
  void aSparseFileMapsItsHolesAsHoleZeroAndCopiesEqualTheImage() throws Exception {
    String out = Exec.ok(T, "nbdinfo", "--map", base + "holes:1");
    assertEquals(flat(expectedMap()), flat(parseMap(out)), out);
    try (var c = withAllocation("holes:1")) {
      assertEquals(flat(List.of(new long[] {BLOCK - 512, 3})),
          flat(blockStatus(c, NbdWire.CMD_FLAG_REQ_ONE, 1, 2L * BLOCK + 512, BLOCK - 512)));
      assertEquals(flat(List.of(new long[] {100, 0}, new long[] {3L * BLOCK, 3}, new long[] {50, 0})),
          flat(blockStatus(c, 0, 2, BLOCK - 100, 3L * BLOCK + 150)));
    }
    Path copy = tmp.resolve("holes-copy.img");
    Exec.ok(T, "nbdcopy", base + "holes:1", copy.toString());
    assertArrayEquals(image, Files.readAllBytes(copy));
  }

  @Test
  void qemuImgMapAgreesAndCopiesStillEqualTheImage() throws Exception {
    String json = Exec.ok(T, "qemu-img", "map", "--output=json", "-f", "raw", base + NAME);
    // qemu: "zero": true, "data": false for holes; "data": true for the rest
    Pattern entry = Pattern.compile("\"start\":\\s*(\\d+),\\s*\"length\":\\s*(\\d+),.*?"
        + "\"zero\":\\s*(true|false),\\s*\"data\":\\s*(true|false)");
    List<long[]> rows = new ArrayList<>();
    Matcher m = entry.matcher(json);
    while (m.find()) {
      boolean zero = m.group(3).equals("true");
      boolean data = m.group(4).equals("true");
      assertEquals(zero, !data, json);
      long[] row = {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), zero ? 3 : 0};
      long[] prev = rows.isEmpty() ? null : rows.get(rows.size() - 1);
      if (prev != null && prev[2] == row[2] && prev[0] + prev[1] == row[0]) {
        prev[1] += row[1]; // qemu may split a run; merge it back
      } else {
        rows.add(row);
      }
    }
    assertEquals(flat(expectedMap()), flat(rows), json);

    Path nbdcopy = tmp.resolve("nbdcopy.img");
    Exec.ok(T, "nbdcopy", base + NAME, nbdcopy.toString());
    assertArrayEquals(image, Files.readAllBytes(nbdcopy));
    Path qemu = tmp.resolve("qemu.img");
    Exec.ok(T, "qemu-img", "convert", "-f", "raw", "-O", "raw", base + NAME, qemu.toString());
    assertArrayEquals(image, Files.readAllBytes(qemu));
  }
}
