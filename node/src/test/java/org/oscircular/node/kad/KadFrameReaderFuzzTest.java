package org.oscircular.node.kad;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.oscircular.protocol.kad.KadMessageException;

/**
 * The kad frame reader takes any bytes a peer sends: it returns frames or throws {@link KadMessageException}, and
 * how the bytes are split does not change the outcome. Seeds:
 * src/test/resources/org/oscircular/node/kad/KadFrameReaderFuzzTestInputs/.
 */
class KadFrameReaderFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void readerOnlyThrowsKadMessageExceptionAndIgnoresSplits(byte[] data) {
    String whole = outcome(data, Math.max(1, data.length));
    String pieces = outcome(data, 3);
    if (!whole.equals(pieces)) {
      throw new AssertionError("splitting changed the outcome: " + whole + " vs " + pieces);
    }
  }

  private static String outcome(byte[] data, int chunk) {
    KadFrameReader reader = new KadFrameReader();
    List<byte[]> frames = new ArrayList<>();
    try {
      for (int i = 0; i < data.length; i += chunk) {
        frames.addAll(reader.feed(Unpooled.wrappedBuffer(data, i, Math.min(chunk, data.length - i))));
      }
    } catch (KadMessageException e) {
      return "error: " + e.getMessage();
    }
    StringBuilder s = new StringBuilder();
    for (byte[] f : frames) s.append(Arrays.hashCode(f)).append(',');
    return s.append(reader.hasPartial() ? " partial" : " complete").toString();
  }
}
