package org.oscircular.protocol.format;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Instant;
import java.util.SplittableRandom;

/**
 * Parsers of bytes from origins and caches must either return a valid value or throw
 * {@link FormatException}: never another exception, never hang. Seeds live under
 * src/test/resources/org/oscircular/protocol/format/FormatFuzzTestInputs/.
 */
class FormatFuzzTest {
  private static final PublisherKey.Private KEY = PublisherKey.Private.generate(new SplittableRandom(42));
  private static final TrustedKeys TRUST = TrustedKeys.of(KEY.publicKey());

  @FuzzTest(maxDuration = "10s")
  void tableDecoderOnlyThrowsFormatException(byte[] data) {
    try {
      ImageTable t = TableCodec.decode(data);
      // A table that decodes must re-encode to the same bytes (the encoding is canonical).
      if (!java.util.Arrays.equals(TableCodec.encode(t), data)) {
        throw new AssertionError("table decoded from non-canonical bytes");
      }
    } catch (FormatException expected) {
      // rejected with a message: fine
    }
  }

  @FuzzTest(maxDuration = "10s")
  void catalogDecoderOnlyThrowsFormatException(byte[] data) {
    try {
      CatalogCodec.decode(data);
    } catch (FormatException expected) {
      // rejected with a message: fine
    }
  }

  @FuzzTest(maxDuration = "10s")
  void envelopeOpenerOnlyThrowsFormatException(byte[] data) {
    try {
      Documents.openCatalog(data, TRUST, -1, Instant.EPOCH);
    } catch (FormatException expected) {
      // rejected with a message: fine
    }
  }
}
