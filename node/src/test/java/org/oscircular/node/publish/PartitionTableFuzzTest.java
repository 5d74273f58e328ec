package org.oscircular.node.publish;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.HashSet;

/**
 * The partition-table parser reads the first bytes of a disk image from anyone: for any bytes and
 * image length it returns partitions that lie inside the image, numbered uniquely from 1, and asks
 * for a bounded number of bytes. Seeds (MBR and GPT heads written by sfdisk):
 * src/test/resources/org/oscircular/node/publish/PartitionTableFuzzTestInputs/.
 */
class PartitionTableFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void parsesAnyBytesIntoPartitionsInsideTheImage(byte[] data) {
    long imageLength = data.length >= 8
        ? Math.abs(ByteBuffer.wrap(data, data.length - 8, 8).getLong() % (1L << 44)) : 1 << 20;
    int needed = PartitionTable.bytesNeeded(data);
    if (needed < 1024 || needed > 4096 * 512 + PartitionTable.MAX_GPT_ENTRIES * 4096) {
      throw new AssertionError("bytesNeeded out of bounds: " + needed);
    }
    var parts = PartitionTable.parse(data, imageLength);
    var numbers = new HashSet<Integer>();
    for (var p : parts) {
      if (p.number() < 1 || !numbers.add(p.number())) {
        throw new AssertionError("bad or repeated partition number in " + parts);
      }
      if (p.offset() <= 0 || p.length() <= 0 || p.offset() % 512 != 0
          || p.length() > imageLength - p.offset()) {
        throw new AssertionError(p + " is not inside an image of " + imageLength + " bytes");
      }
    }
  }
}
