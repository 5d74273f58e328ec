package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;

/** The server against a byte-level client: negotiation, reads, errors and bad input. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdServerTest {
  static final int SIZE = 4 * 1024 * 1024 + 12_345; // deliberately not a multiple of 512
  static final long BAD_FROM = 1024 * 1024;
  static final long BAD_TO = BAD_FROM + 65_536;

  @TempDir Path dir;
  byte[] image;
  FileExport file;
  TestExports.Gated gated;
  TestExports.AtHand atHand;
  TestExports.Lent lent;
  TestExports.LoadsBlockSize loads;
  TestExports.LoadsBlockSize unloadable;
  ExecutorService reads;
  NbdServer server;
  InetSocketAddress address;

  @BeforeEach
  void start() throws IOException {
    image = TestExports.writeImage(dir.resolve("disk.img"), SIZE, 42);
    file = FileExport.open("disk:1", dir.resolve("disk.img"));
    gated = new TestExports.Gated("gated", file);
    var flaky = new TestExports.Flaky("flaky", file, BAD_FROM, BAD_TO);
    atHand = new TestExports.AtHand("athand", file, SIZE / 2, BAD_FROM, BAD_TO);
    lent = new TestExports.Lent("lent", file, SIZE / 2);
    loads = new TestExports.LoadsBlockSize("loads", file, 65_536);
    unloadable = new TestExports.LoadsBlockSize("unloadable", file, 0);
    reads = Executors.newVirtualThreadPerTaskExecutor();
    server = NbdServer.start(new InetSocketAddress("127.0.0.1", 0),
        NbdExports.of(List.of(file, flaky, gated, atHand, lent, loads, unloadable)), reads, 1);
    address = server.address();
  }

  @AfterEach
  void stop() throws IOException {
    gated.release();
    loads.release();
    unloadable.release();
    server.close();
    reads.shutdownNow();
    file.close();
  }

  RawNbdClient connect() throws IOException {
    return new RawNbdClient(address).handshake();
  }

  RawNbdClient transmitting(String export) throws IOException {
    RawNbdClient c = connect();
    assertEquals(NbdWire.REP_ACK, c.go(export).type());
    return c;
  }

  byte[] read(RawNbdClient c, long cookie, long offset, int length) throws IOException {
    c.request(0, NbdWire.CMD_READ, cookie, offset, length);
    RawNbdClient.SimpleReply r = c.readSimpleReply();
    assertEquals(new RawNbdClient.SimpleReply(0, cookie), r);
    return c.readBytes(length);
  }

  void assertError(RawNbdClient c, long cookie, int error) throws IOException {
    assertEquals(new RawNbdClient.SimpleReply(error, cookie), c.readSimpleReply());
  }

  @Test
  void greetsWithFixedNewstyleAndNoZeroes() throws IOException {
    try (var c = new RawNbdClient(address)) {
      assertEquals(NbdWire.FLAG_FIXED_NEWSTYLE | NbdWire.FLAG_NO_ZEROES, c.greeting());
    }
  }

  @Test
  void listsEveryExportThenAcknowledges() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_LIST, new byte[0]);
      List<String> names = new ArrayList<>();
      RawNbdClient.OptionReply r;
      while ((r = c.readOptionReply()).type() == NbdWire.REP_SERVER) {
        ByteBuffer b = ByteBuffer.wrap(r.data());
        byte[] name = new byte[b.getInt()];
        b.get(name);
        names.add(new String(name, StandardCharsets.UTF_8));
      }
      assertEquals(NbdWire.REP_ACK, r.type());
      assertEquals(List.of("disk:1", "flaky", "gated", "athand", "lent", "loads", "unloadable"), names);
    }
  }

  @Test
  void infoReportsSizeReadOnlyAndBlockSizesAndGoStillWorksAfterIt() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_INFO, RawNbdClient.infoData("disk:1", NbdWire.INFO_BLOCK_SIZE,
          NbdWire.INFO_NAME));
      boolean sawExport = false;
      boolean sawBlockSize = false;
      boolean sawName = false;
      RawNbdClient.OptionReply r;
      while ((r = c.readOptionReply()).type() == NbdWire.REP_INFO) {
        assertEquals(NbdWire.OPT_INFO, r.option());
        ByteBuffer b = ByteBuffer.wrap(r.data());
        switch (b.getShort()) {
          case NbdWire.INFO_EXPORT -> {
            sawExport = true;
            assertEquals(SIZE, b.getLong());
            int flags = b.getShort() & 0xffff;
            assertEquals(NbdWire.TFLAG_HAS_FLAGS, flags & NbdWire.TFLAG_HAS_FLAGS);
            assertEquals(NbdWire.TFLAG_READ_ONLY, flags & NbdWire.TFLAG_READ_ONLY);
            assertEquals(NbdWire.TFLAG_CAN_MULTI_CONN, flags & NbdWire.TFLAG_CAN_MULTI_CONN);
          }
          case NbdWire.INFO_BLOCK_SIZE -> {
            sawBlockSize = true;
            assertEquals(1, b.getInt());
            assertEquals(4096, b.getInt());
            assertEquals(32 * 1024 * 1024, b.getInt());
          }
          case NbdWire.INFO_NAME -> {
            sawName = true;
            assertEquals("disk:1", new String(r.data(), 2, r.data().length - 2,
                StandardCharsets.UTF_8));
          }
          default -> { }
        }
      }
      assertEquals(NbdWire.REP_ACK, r.type());
      assertTrue(sawExport && sawBlockSize && sawName, "export, block size and name infos");
      assertEquals(NbdWire.REP_ACK, c.go("disk:1").type());
      assertArrayEquals(Arrays.copyOfRange(image, 0, 512), read(c, 1, 0, 512));
    }
  }

  @Test
  void anInfoWaitingForItsBlockSizeHoldsBackTheMessagesBehindItButNoOtherClient() throws Exception {
    try (var a = connect(); var b = connect()) {
      a.send(RawNbdClient.option(NbdWire.OPT_INFO, RawNbdClient.infoData("loads", NbdWire.INFO_BLOCK_SIZE)),
          RawNbdClient.option(NbdWire.OPT_LIST, new byte[0]),
          RawNbdClient.option(NbdWire.OPT_GO, RawNbdClient.infoData("loads", NbdWire.INFO_BLOCK_SIZE)),
          RawNbdClient.requestBytes(0, NbdWire.CMD_READ, 1, 4096, 512));
      Await.atMost(Duration.ofSeconds(10)).until("the block size to be loaded", () -> loads.loads.get() == 1);
      // the only event loop still serves another client meanwhile
      assertEquals(NbdWire.REP_ACK, b.info(NbdWire.OPT_GO, "disk:1").last().type());
      assertArrayEquals(Arrays.copyOfRange(image, 0, 512), read(b, 1, 0, 512));
      assertEquals(0, a.in.available(), "nothing is answered before the block size is known");
      loads.release();

      RawNbdClient.InfoAnswer info = a.readInfoAnswer();
      assertEquals(NbdWire.OPT_INFO, info.last().option());
      assertEquals(NbdWire.REP_ACK, info.last().type());
      assertEquals(65_536, info.preferredBlockSize());
      RawNbdClient.OptionReply r;
      int listed = 0;
      while ((r = a.readOptionReply()).type() == NbdWire.REP_SERVER) {
        listed++;
      }
      assertEquals(NbdWire.OPT_LIST, r.option());
      assertEquals(NbdWire.REP_ACK, r.type());
      assertEquals(7, listed);
      RawNbdClient.InfoAnswer go = a.readInfoAnswer();
      assertEquals(NbdWire.OPT_GO, go.last().option());
      assertEquals(NbdWire.REP_ACK, go.last().type());
      assertEquals(65_536, go.preferredBlockSize());
      assertEquals(new RawNbdClient.SimpleReply(0, 1), a.readSimpleReply());
      assertArrayEquals(Arrays.copyOfRange(image, 4096, 4096 + 512), a.readBytes(512));

      assertEquals(1, loads.loads.get(), "loaded once, for the first option that needed it");
      assertTrue(loads.loadThreads.stream().allMatch(Thread::isVirtual), "loaded on the read pool, not the event loop");
    }
  }

  @Test
  void anExportWhoseBlockSizeCannotBeLoadedIsStillEnteredWithTheFallbackBlockSize() throws IOException {
    unloadable.release();
    try (var c = connect()) {
      RawNbdClient.InfoAnswer info = c.info(NbdWire.OPT_INFO, "unloadable");
      assertEquals(NbdWire.REP_ACK, info.last().type());
      assertEquals(4096, info.preferredBlockSize());
      RawNbdClient.InfoAnswer go = c.info(NbdWire.OPT_GO, "unloadable");
      assertEquals(NbdWire.REP_ACK, go.last().type());
      assertEquals(4096, go.preferredBlockSize());
      assertEquals(1, unloadable.loads.get(), "the GO after the INFO is told the same, without a second wait");
      assertArrayEquals(Arrays.copyOfRange(image, 0, 512), read(c, 1, 0, 512));
    }
  }

  @Test
  void unknownExportIsAnsweredUnknownAndNegotiationContinues() throws IOException {
    try (var c = connect()) {
      RawNbdClient.OptionReply r = c.go("no-such:1");
      assertEquals(NbdWire.REP_ERR_UNKNOWN, r.type());
      assertTrue(r.text().contains("no-such:1"), r.text());
      assertEquals(NbdWire.REP_ACK, c.go("disk:1").type());
    }
  }

  @Test
  void unsupportedOptionsAreAnsweredUnsupAndMalformedOnesInvalid() throws IOException {
    try (var c = connect()) {
      c.sendOption(99, new byte[] {1, 2, 3});
      assertEquals(NbdWire.REP_ERR_UNSUP, c.readOptionReply().type());
      c.sendOption(NbdWire.OPT_STARTTLS, new byte[0]);
      assertEquals(NbdWire.REP_ERR_UNSUP, c.readOptionReply().type());
      c.sendOption(NbdWire.OPT_LIST, new byte[] {0});
      assertEquals(NbdWire.REP_ERR_INVALID, c.readOptionReply().type());
      // name length claims more bytes than the option carries
      c.sendOption(NbdWire.OPT_GO, new byte[] {0, 0, 1, 0, 'x', 0, 0});
      assertEquals(NbdWire.REP_ERR_INVALID, c.readOptionReply().type());
      // an odd number of bytes for the information requests
      c.sendOption(NbdWire.OPT_INFO, new byte[] {0, 0, 0, 0, 0, 1, 0});
      assertEquals(NbdWire.REP_ERR_INVALID, c.readOptionReply().type());
      // a name that is not UTF-8
      c.sendOption(NbdWire.OPT_INFO, new byte[] {0, 0, 0, 1, (byte) 0xff, 0, 0});
      assertEquals(NbdWire.REP_ERR_INVALID, c.readOptionReply().type());
      assertEquals(NbdWire.REP_ACK, c.go("disk:1").type());
      assertArrayEquals(Arrays.copyOfRange(image, 100, 200), read(c, 7, 100, 100));
    }
  }

  @Test
  void abortIsAcknowledgedThenTheConnectionCloses() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_ABORT, new byte[0]);
      assertEquals(NbdWire.REP_ACK, c.readOptionReply().type());
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void exportNameOptionEntersTransmissionWithoutZeroPadding() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_EXPORT_NAME, "disk:1".getBytes(StandardCharsets.UTF_8));
      assertEquals(SIZE, c.in.readLong());
      int flags = c.in.readUnsignedShort();
      assertEquals(NbdWire.TFLAG_READ_ONLY, flags & NbdWire.TFLAG_READ_ONLY);
      assertArrayEquals(Arrays.copyOfRange(image, 0, 16), read(c, 1, 0, 16));
    }
  }

  @Test
  void exportNameOptionForAnUnknownExportClosesTheConnection() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void readsReturnTheExportBytesIncludingTheUnalignedTail() throws IOException {
    try (var c = transmitting("disk:1")) {
      assertArrayEquals(Arrays.copyOfRange(image, 0, 65_536), read(c, 1, 0, 65_536));
      assertArrayEquals(Arrays.copyOfRange(image, 3, 4), read(c, 2, 3, 1));
      assertArrayEquals(Arrays.copyOfRange(image, SIZE - 1000, SIZE), read(c, 3, SIZE - 1000,
          1000));
      c.request(0, NbdWire.CMD_READ, 4, SIZE, 0); // empty read at the very end
      assertEquals(new RawNbdClient.SimpleReply(0, 4), c.readSimpleReply());
      c.request(0, NbdWire.CMD_FLUSH, 5, 0, 0);
      assertEquals(new RawNbdClient.SimpleReply(0, 5), c.readSimpleReply());
      c.request(0, NbdWire.CMD_CACHE, 6, 0, SIZE);
      assertEquals(new RawNbdClient.SimpleReply(0, 6), c.readSimpleReply());
    }
  }

  @Test
  void writesTrimsAndZeroWritesAreRefusedWithEpermAndChangeNothing() throws IOException {
    try (var c = transmitting("disk:1")) {
      byte[] payload = new byte[8192];
      c.out.writeInt(NbdWire.REQUEST_MAGIC);
      c.out.writeShort(0);
      c.out.writeShort(NbdWire.CMD_WRITE);
      c.out.writeLong(11);
      c.out.writeLong(0);
      c.out.writeInt(payload.length);
      c.out.write(payload);
      c.out.flush();
      assertError(c, 11, NbdWire.EPERM);
      c.request(0, NbdWire.CMD_TRIM, 12, 0, 4096);
      assertError(c, 12, NbdWire.EPERM);
      c.request(0, NbdWire.CMD_WRITE_ZEROES, 13, 0, 4096);
      assertError(c, 13, NbdWire.EPERM);
      // the write payload was consumed, not taken for requests, and the bytes are unchanged
      assertArrayEquals(Arrays.copyOfRange(image, 0, 8192), read(c, 14, 0, 8192));
    }
  }

  @Test
  void unknownCommandsBadFlagsAndOutOfRangeReadsAreEinval() throws IOException {
    try (var c = transmitting("disk:1")) {
      c.request(0, 42, 1, 0, 512);
      assertError(c, 1, NbdWire.EINVAL);
      c.request(0, NbdWire.CMD_READ, 2, SIZE - 10, 20);
      assertError(c, 2, NbdWire.EINVAL);
      c.request(0, NbdWire.CMD_READ, 3, 0x8000_0000_0000_0000L, 512);
      assertError(c, 3, NbdWire.EINVAL);
      c.request(0, NbdWire.CMD_READ, 4, 0, 0xffff_ffffL); // oversized length
      assertError(c, 4, NbdWire.EINVAL);
      c.request(NbdWire.CMD_FLAG_DF, NbdWire.CMD_READ, 5, 0, 512); // DF without structured
      assertError(c, 5, NbdWire.EINVAL);
      c.request(0, NbdWire.CMD_BLOCK_STATUS, 6, 0, 512);
      assertError(c, 6, NbdWire.EINVAL);
      assertArrayEquals(Arrays.copyOfRange(image, 0, 512), read(c, 7, 0, 512));
    }
  }

  @Test
  void oversizedWriteClosesOnlyThatConnection() throws IOException {
    try (var good = transmitting("disk:1"); var bad = transmitting("disk:1")) {
      bad.request(0, NbdWire.CMD_WRITE, 1, 0, 0xffff_ffffL);
      assertTrue(bad.closedByServer());
      assertArrayEquals(Arrays.copyOfRange(image, 0, 4096), read(good, 1, 0, 4096));
    }
  }

  @Test
  void garbageHandshakeClosesOnlyThatConnection() throws IOException {
    try (var good = transmitting("disk:1")) {
      try (var c = new RawNbdClient(address)) {
        c.greeting();
        c.out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        c.out.flush();
        assertTrue(c.closedByServer(), "unknown client flags must close");
      }
      try (var c = connect()) {
        byte[] junk = new byte[64];
        new Random(7).nextBytes(junk);
        c.out.write(junk);
        c.out.flush();
        assertTrue(c.closedByServer(), "bad option magic must close");
      }
      try (var c = connect()) {
        c.out.writeLong(NbdWire.IHAVEOPT);
        c.out.writeInt(NbdWire.OPT_GO);
        c.out.writeInt(0x7fff_ffff); // a 2 GiB option
        c.out.flush();
        assertTrue(c.closedByServer(), "oversized option must close");
      }
      assertArrayEquals(Arrays.copyOfRange(image, 512, 1024), read(good, 9, 512, 512));
    }
  }

  @Test
  void badRequestMagicClosesTheConnection() throws IOException {
    try (var c = transmitting("disk:1")) {
      c.out.writeInt(0x12560953); // the historic request magic
      c.out.write(new byte[24]);
      c.out.flush();
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void failedReadIsAnsweredEioAndTheConnectionCarriesOn() throws IOException {
    try (var c = transmitting("flaky")) {
      c.request(0, NbdWire.CMD_READ, 1, BAD_FROM - 512, 1024);
      assertError(c, 1, NbdWire.EIO);
      c.request(0, NbdWire.CMD_CACHE, 2, 0, SIZE);
      assertError(c, 2, NbdWire.EIO);
      assertArrayEquals(Arrays.copyOfRange(image, (int) BAD_TO, (int) BAD_TO + 4096),
          read(c, 3, BAD_TO, 4096));
    }
  }

  @Test
  void slowReadDoesNotHoldBackLaterReplies() throws IOException {
    try (var c = transmitting("gated")) {
      c.request(0, NbdWire.CMD_READ, 1, 0, 4096); // held at the gate
      assertArrayEquals(Arrays.copyOfRange(image, 4096, 8192), read(c, 2, 4096, 4096));
      gated.release();
      assertEquals(new RawNbdClient.SimpleReply(0, 1), c.readSimpleReply());
      assertArrayEquals(Arrays.copyOfRange(image, 0, 4096), c.readBytes(4096));
    }
  }

  @Test
  void aClientWithTheMostRequestsInFlightIsNotReadFromUntilSomeAreAnswered() throws Exception {
    int max = NbdConnection.MAX_IN_FLIGHT;
    try (var c = transmitting("gated")) {
      byte[][] first = new byte[max][];
      for (int i = 0; i < max; i++) {
        first[i] = RawNbdClient.requestBytes(0, NbdWire.CMD_READ, i, 0, 512); // all held at the gate
      }
      c.send(first);
      Await.atMost(Duration.ofSeconds(10)).until("the first requests to be held", () -> gated.held().get() == max);
      byte[][] more = new byte[20][];
      for (int i = 0; i < more.length; i++) {
        more[i] = RawNbdClient.requestBytes(0, NbdWire.CMD_READ, max + i, 0, 512);
      }
      c.send(more);
      // Nothing signals that the server leaves bytes unread: watch that no request is taken for a while.
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      while (System.nanoTime() < until) {
        assertEquals(max, gated.held().get(), "requests taken beyond the in-flight limit");
        Thread.sleep(10);
      }
      gated.release();
      Set<Long> answered = new HashSet<>();
      for (int i = 0; i < max + more.length; i++) {
        RawNbdClient.SimpleReply r = c.readSimpleReply();
        assertEquals(0, r.error());
        assertArrayEquals(Arrays.copyOfRange(image, 0, 512), c.readBytes(512));
        answered.add(r.cookie());
      }
      assertEquals(max + more.length, answered.size());
    }
  }

  @Test
  void disconnectWaitsForOutstandingReadsThenCloses() throws IOException {
    try (var c = transmitting("gated")) {
      c.request(0, NbdWire.CMD_READ, 1, 0, 4096);
      c.request(0, NbdWire.CMD_DISC, 2, 0, 0);
      gated.release();
      assertEquals(new RawNbdClient.SimpleReply(0, 1), c.readSimpleReply());
      assertArrayEquals(Arrays.copyOfRange(image, 0, 4096), c.readBytes(4096));
      assertTrue(c.closedByServer());
    }
  }

  @Test
  void structuredRepliesCarryDataChunksAndErrorMessages() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_STRUCTURED_REPLY, new byte[0]);
      assertEquals(NbdWire.REP_ACK, c.readOptionReply().type());
      assertEquals(NbdWire.REP_ACK, c.go("flaky").type());
      c.request(NbdWire.CMD_FLAG_DF, NbdWire.CMD_READ, 1, 8, 1000);
      assertArrayEquals(Arrays.copyOfRange(image, 8, 1008), readDataChunk(c, 1, 8));

      c.request(0, NbdWire.CMD_READ, 2, BAD_FROM, 512);
      assertEquals(NbdWire.STRUCTURED_REPLY_MAGIC, c.in.readInt());
      assertEquals(NbdWire.REPLY_FLAG_DONE, c.in.readUnsignedShort());
      assertEquals(NbdWire.REPLY_TYPE_ERROR, c.in.readUnsignedShort());
      assertEquals(2, c.in.readLong());
      int length = c.in.readInt();
      assertEquals(NbdWire.EIO, c.in.readInt());
      byte[] message = c.readBytes(c.in.readUnsignedShort());
      assertEquals(length - 6, message.length);
      assertTrue(new String(message, StandardCharsets.UTF_8).contains("does not verify"));
    }
  }

  @Test
  void servesManyConnectionsAndPipelinedReadsAtOnce() throws Exception {
    try (ExecutorService clients = Executors.newFixedThreadPool(6)) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        long seed = t;
        done.add(clients.submit(() -> {
          Random rnd = new Random(seed);
          try (var c = transmitting("disk:1")) {
            int n = 64;
            long[] offsets = new long[n];
            int[] lengths = new int[n];
            for (int i = 0; i < n; i++) { // pipeline all requests, then read replies
              lengths[i] = 1 + rnd.nextInt(200_000);
              offsets[i] = rnd.nextLong(SIZE - lengths[i] + 1);
              c.request(0, NbdWire.CMD_READ, i, offsets[i], lengths[i]);
            }
            for (int i = 0; i < n; i++) {
              RawNbdClient.SimpleReply r = c.readSimpleReply();
              assertEquals(0, r.error());
              int k = (int) r.cookie();
              assertArrayEquals(Arrays.copyOfRange(image, (int) offsets[k],
                  (int) offsets[k] + lengths[k]), c.readBytes(lengths[k]));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(50, TimeUnit.SECONDS);
      }
    }
  }

  /** Sends all the reads to {@code export} before reading any reply, then checks every reply's bytes. */
  private void readPipelined(String export, long[] offsets, int[] lengths) throws IOException {
    try (var c = transmitting(export)) {
      for (int i = 0; i < offsets.length; i++) { // pipelined
        c.request(0, NbdWire.CMD_READ, i, offsets[i], lengths[i]);
      }
      for (int i = 0; i < offsets.length; i++) {
        RawNbdClient.SimpleReply r = c.readSimpleReply();
        assertEquals(0, r.error());
        int k = (int) r.cookie();
        assertArrayEquals(Arrays.copyOfRange(image, (int) offsets[k], (int) offsets[k] + lengths[k]),
            c.readBytes(lengths[k]), "read " + k);
      }
    }
  }

  @Test
  void readsAtHandAreAnsweredOnTheEventLoopAndAllOthersByThePoolWithTheRightBytes() throws IOException {
    long[] offsets = {0, 70_000, SIZE / 2 + 5, BAD_FROM + 100, SIZE / 2 - 4096, SIZE - 777};
    int[] lengths = {4096, 200_000, 65_536, 1000, 8192, 777};
    readPipelined("athand", offsets, lengths);
    assertEquals(2, atHand.servedNow().get(), "reads at hand (the damaged one and those past half are not)");
    assertEquals(4, atHand.read().get(), "reads sent to the pool");
    assertTrue(atHand.nowThreads().stream().noneMatch(Thread::isVirtual), "readNow on the event loop");
    assertTrue(atHand.readThreads().stream().allMatch(Thread::isVirtual), "read on the pool");
  }

  @Test
  void aReadAtHandGetsAStructuredDataChunk() throws IOException {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_STRUCTURED_REPLY, new byte[0]);
      assertEquals(NbdWire.REP_ACK, c.readOptionReply().type());
      assertEquals(NbdWire.REP_ACK, c.go("athand").type());
      c.request(NbdWire.CMD_FLAG_DF, NbdWire.CMD_READ, 9, 12_345, 100_000);
      assertArrayEquals(Arrays.copyOfRange(image, 12_345, 112_345), readDataChunk(c, 9, 12_345));
    }
    assertEquals(1, atHand.servedNow().get());
    assertEquals(0, atHand.read().get());
  }

  @Test
  void readsLentAsBuffersAreSentBehindTheirHeaderFromTheEventLoopAndTheOthersByThePool() throws Exception {
    long[] offsets = {0, 70_000, SIZE / 2 + 5, SIZE / 2 - 4096, 3, SIZE - 777};
    int[] lengths = {4096, 200_000, 65_536, 4096, 1, 777};
    readPipelined("lent", offsets, lengths);
    assertEquals(4, lent.lent().get(), "reads lent (those past half are not)");
    assertEquals(2, lent.read().get(), "reads sent to the pool");
    Await.atMost(Duration.ofSeconds(10)).until("every lent read given back once sent",
        () -> lent.givenBack().get(), n -> n == 4);
    assertTrue(lent.lentThreads().stream().noneMatch(Thread::isVirtual), "viewNow on the event loop");
  }

  @Test
  void aLentReadGetsAStructuredDataChunk() throws Exception {
    try (var c = connect()) {
      c.sendOption(NbdWire.OPT_STRUCTURED_REPLY, new byte[0]);
      assertEquals(NbdWire.REP_ACK, c.readOptionReply().type());
      assertEquals(NbdWire.REP_ACK, c.go("lent").type());
      for (int cookie = 1; cookie <= 2; cookie++) {
        c.request(NbdWire.CMD_FLAG_DF, NbdWire.CMD_READ, cookie, 12_345L * cookie, 100_000);
      }
      for (int cookie = 1; cookie <= 2; cookie++) {
        assertArrayEquals(Arrays.copyOfRange(image, 12_345 * cookie, 12_345 * cookie + 100_000),
            readDataChunk(c, cookie, 12_345L * cookie));
      }
    }
    assertEquals(2, lent.lent().get());
    assertEquals(0, lent.read().get());
    Await.atMost(Duration.ofSeconds(10)).until("every lent read given back once sent",
        () -> lent.givenBack().get(), n -> n == 2);
  }

  /**
   * Reads one structured reply chunk that must be the whole answer to read {@code cookie}: a single
   * NBD_REPLY_TYPE_OFFSET_DATA chunk with the DONE flag, for {@code offset}. Returns its data.
   */
  private static byte[] readDataChunk(RawNbdClient c, long cookie, long offset) throws IOException {
    RawNbdClient.Chunk chunk = c.readChunk();
    assertEquals(NbdWire.REPLY_FLAG_DONE, chunk.flags());
    assertEquals(NbdWire.REPLY_TYPE_OFFSET_DATA, chunk.type());
    assertEquals(cookie, chunk.cookie());
    assertEquals(offset, ByteBuffer.wrap(chunk.payload()).getLong());
    return Arrays.copyOfRange(chunk.payload(), 8, chunk.payload().length);
  }
}
