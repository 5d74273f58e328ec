package org.oscircular.node.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multistream;
import org.oscircular.protocol.p2p.YamuxFlowControl;
import org.oscircular.protocol.p2p.YamuxHeader;

/** A yamux session fed plaintext directly (no noise, no socket): framing and flow-control behaviour. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class YamuxSessionTest {
  private static final String PROTO = "/circular/test/collect/1.0.0";
  private static Host host;
  private static final List<Collected> collected = new ArrayList<>();

  private static final class Collected {
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    final List<Integer> pieces = new ArrayList<>();
    boolean readClosed;
  }

  @BeforeAll
  static void startHost() {
    host = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(1), new SecureRandom());
    host.registerHandler(PROTO, stream -> {
      Collected c = new Collected();
      collected.add(c);
      stream.setListener(new StreamListener() {
        @Override
        public void onData(P2pStream s, ByteBuf data) {
          c.pieces.add(data.readableBytes());
          byte[] b = new byte[data.readableBytes()];
          data.readBytes(b);
          c.data.writeBytes(b);
        }

        @Override
        public void onReadClosed(P2pStream s) {
          c.readClosed = true;
        }
      });
    });
  }

  @AfterAll
  static void stopHost() {
    host.close();
  }

  private static EmbeddedChannel inboundSession() {
    return new EmbeddedChannel(new YamuxSession(host, IdentityKey.generate(new SecureRandom()).peerId(),
        Multiaddr.parse("/ip4/127.0.0.1/tcp/1"), Connection.Direction.INBOUND));
  }

  private static byte[] frame(int type, int flags, int stream, long length, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(YamuxHeader.SIZE + body.length);
    new YamuxHeader(type, flags, stream, length).write(b);
    return b.put(body).array();
  }

  private static List<YamuxHeader> outboundHeaders(EmbeddedChannel ch) {
    ByteBuf all = Unpooled.buffer();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      all.writeBytes(b);
      b.release();
    }
    List<YamuxHeader> headers = new ArrayList<>();
    while (all.isReadable()) {
      YamuxHeader h = YamuxHeader.read(all.nioBuffer());
      all.skipBytes(YamuxHeader.SIZE);
      if (h.type() == YamuxHeader.TYPE_DATA) {
        all.skipBytes((int) h.length());
      }
      headers.add(h);
    }
    return headers;
  }

  @Test
  void deliversADataBodyAsItArrivesAndAppliesItsFinAfterTheLastByte() {
    byte[] payload = new byte[150_000];
    new SplittableRandom(1).nextBytes(payload);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(Multistream.dialer(List.of(PROTO)).start());
    body.writeBytes(payload);
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    wire.writeBytes(frame(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, 1, 0, new byte[0]));
    wire.writeBytes(frame(YamuxHeader.TYPE_DATA, YamuxHeader.FLAG_FIN, 1, body.size(), body.toByteArray()));
    byte[] bytes = wire.toByteArray();

    for (long seed = 0; seed < 20; seed++) {
      collected.clear();
      EmbeddedChannel ch = inboundSession();
      SplittableRandom cut = new SplittableRandom(seed);
      for (int off = 0; off < bytes.length; ) {
        int n = Math.min(bytes.length - off, 1 + cut.nextInt(seed % 2 == 0 ? 40 : 70_000));
        ch.writeInbound(Unpooled.copiedBuffer(bytes, off, n));
        ch.runPendingTasks();
        off += n;
      }
      ch.runPendingTasks();
      assertEquals(1, collected.size());
      Collected c = collected.getFirst();
      assertArrayEquals(payload, c.data.toByteArray(), "split seed " + seed);
      assertTrue(c.readClosed, "FIN delivered after the data, split seed " + seed);
      if (seed % 2 == 1) {
        assertTrue(c.pieces.size() > 1, "the body arrives in pieces, not after the whole frame");
      }
      ch.finishAndReleaseAll();
    }
  }

  @Test
  void grantsTheLargerWindowOnAcceptAndReturnsCreditOnceHalfIsConsumed() {
    collected.clear();
    EmbeddedChannel ch = inboundSession();
    byte[] mss = Multistream.dialer(List.of(PROTO)).start();
    ch.writeInbound(Unpooled.wrappedBuffer(frame(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, 1, 0, new byte[0])));
    ch.writeInbound(Unpooled.wrappedBuffer(frame(YamuxHeader.TYPE_DATA, 0, 1, mss.length, mss)));
    ch.runPendingTasks();
    List<YamuxHeader> first = outboundHeaders(ch);
    int window = host.config().yamuxReceiveWindow();
    assertEquals(new YamuxHeader(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_ACK, 1, window - YamuxFlowControl.INITIAL_WINDOW),
        first.getFirst(), "the ACK grants the configured window at once");

    byte[] chunk = new byte[60_000];
    int sent = mss.length;
    List<YamuxHeader> updates = new ArrayList<>();
    while (sent < window / 2 + chunk.length) {
      ch.writeInbound(Unpooled.wrappedBuffer(frame(YamuxHeader.TYPE_DATA, 0, 1, chunk.length, chunk)));
      ch.runPendingTasks();
      sent += chunk.length;
      outboundHeaders(ch).stream().filter(h -> h.type() == YamuxHeader.TYPE_WINDOW_UPDATE).forEach(updates::add);
    }
    assertEquals(1, updates.size(), updates.toString());
    assertTrue(updates.getFirst().length() >= window / 2, "credit comes in one update of at least half the window");
    ch.finishAndReleaseAll();
  }
}
