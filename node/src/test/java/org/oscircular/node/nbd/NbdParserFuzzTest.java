package org.oscircular.node.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes what parses client bytes: the frame decoder with the option parser, and a whole
 * connection. Any input must end in messages, error replies or a closed connection; never in
 * an exception escaping to Netty. Seeds live in NbdParserFuzzTestInputs/.
 */
class NbdParserFuzzTest {
  private static final NbdExports EXPORTS =
      NbdExports.of(List.of(new MemoryExport("img:1", new byte[8192])));

  /** First byte picks the phase to start in; the rest is fed in two pieces. */
  @FuzzTest(maxDuration = "30s")
  void decoderConsumesOrRejectsAnyBytes(byte[] data) {
    if (data.length == 0) {
      return;
    }
    NbdFrameDecoder frames = new NbdFrameDecoder();
    int phase = Byte.toUnsignedInt(data[0]) % 3;
    if (phase >= 1) {
      try {
        frames.decode(Unpooled.wrappedBuffer(new byte[4])); // valid client flags
      } catch (NbdProtocolException e) {
        throw new AssertionError(e);
      }
    }
    if (phase == 2) {
      frames.enterTransmission();
    }
    int split = data.length / 2;
    ByteBuf in = Unpooled.buffer();
    for (byte[] piece : List.of(Arrays.copyOfRange(data, 1, Math.max(1, split)),
        Arrays.copyOfRange(data, Math.max(1, split), data.length))) {
      in.writeBytes(piece);
      try {
        ClientMessage m;
        while ((m = frames.decode(in)) != null) {
          if (m instanceof ClientMessage.Option o) {
            OptionRequest.parse(o);
          }
          if (m instanceof ClientMessage.Request r) {
            assertTrue(r.length() >= 0 && r.length() <= 0xffff_ffffL);
          }
        }
      } catch (NbdProtocolException e) {
        return; // rejected: the connection would be closed
      }
    }
  }

  /** The bytes a client sends after the greeting, into a whole connection. */
  @FuzzTest(maxDuration = "30s")
  void connectionAnswersOrClosesOnAnyBytes(byte[] data) {
    EmbeddedChannel ch = new EmbeddedChannel(new NbdConnection(EXPORTS, Runnable::run));
    try {
      ch.writeInbound(Unpooled.wrappedBuffer(data));
      ch.runPendingTasks();
      ch.checkException(); // throws if a handler let an exception escape
    } finally {
      ch.finishAndReleaseAll();
    }
  }
}
