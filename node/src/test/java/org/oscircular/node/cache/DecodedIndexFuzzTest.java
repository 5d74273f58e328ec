package org.oscircular.node.cache;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The decoded tier's index files come back from disk: the parser returns null (not ours, damaged) or an
 * index whose geometry is consistent, and never throws. Seeds live under
 * src/test/resources/org/oscircular/node/cache/DecodedIndexFuzzTestInputs/.
 */
class DecodedIndexFuzzTest {

  @FuzzTest(maxDuration = "10s")
  void indexParserReturnsNullOrAConsistentIndexAndNeverThrows(byte[] data) {
    // The digest the caller expects is the one the header names, when there is one, so the fuzzer can
    // reach past the header check; otherwise a fixed one.
    byte[] digest = data.length >= 64 ? Arrays.copyOfRange(data, 32, 64) : new byte[32];
    DecodedFile.Index idx = DecodedFile.parseIndex(digest, ByteBuffer.wrap(data));
    if (idx == null) {
      return;
    }
    if (idx.blockSize() <= 0 || idx.imageLength() <= 0 || idx.kept().length != idx.blocks()
        || idx.crc().length != idx.blocks() || (idx.imageLength() - 1) / idx.blockSize() + 1 != idx.blocks()) {
      throw new AssertionError("inconsistent index: " + idx);
    }
    long entries = Math.max(0, (data.length - DecodedFile.HEADER) / DecodedFile.ENTRY);
    for (int i = 0; i < idx.blocks(); i++) {
      if (idx.kept()[i] && i >= entries) {
        throw new AssertionError("block " + i + " kept without an entry in the file");
      }
    }
    if (idx.keptBytes() < 0 || idx.keptBytes() > idx.imageLength()) {
      throw new AssertionError("kept bytes " + idx.keptBytes() + " of " + idx.imageLength());
    }
  }
}
