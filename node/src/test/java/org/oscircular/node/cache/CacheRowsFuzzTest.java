package org.oscircular.node.cache;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import org.oscircular.protocol.format.FormatException;

/**
 * The cache's rows come back from disk: their parsers either return a value that re-encodes to the
 * same bytes or throw {@link FormatException}, nothing else. Seeds live under
 * src/test/resources/org/oscircular/node/cache/CacheRowsFuzzTestInputs/.
 */
class CacheRowsFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void metaRowParserOnlyThrowsFormatException(byte[] data) {
    try {
      var m = CacheRows.Meta.decode(data);
      if (!Arrays.equals(m.encode(), data)) {
        throw new AssertionError("meta row does not re-encode to its bytes");
      }
    } catch (FormatException expected) {
      // rejected: the store drops the row
    }
  }

  @FuzzTest(maxDuration = "10s")
  void pinKeyParserOnlyThrowsFormatException(byte[] data) {
    try {
      var k = CacheRows.PinKey.decode(data);
      if (!Arrays.equals(k.encode(), data)) {
        throw new AssertionError("pin key does not re-encode to its bytes");
      }
    } catch (FormatException expected) {
      // rejected: the store drops the row
    }
  }
}
