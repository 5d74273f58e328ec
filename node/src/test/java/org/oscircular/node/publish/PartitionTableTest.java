package org.oscircular.node.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MBR and GPT heads written by sfdisk (the fuzz seeds), read back. */
class PartitionTableTest {
  static byte[] seed(String name) throws IOException {
    try (InputStream in = PartitionTableTest.class.getResourceAsStream(
        "PartitionTableFuzzTestInputs/parsesAnyBytesIntoPartitionsInsideTheImage/" + name)) {
      return in.readAllBytes();
    }
  }

  static final long DISK = 24L << 20; // the seeds come from 24 MiB disks

  @Test
  void readsTheFourPrimaryMbrEntries() throws IOException {
    byte[] head = seed("mbr-two-partitions");
    assertEquals(1024, PartitionTable.bytesNeeded(head));
    assertEquals(List.of(new PartitionTable.Partition(1, 2048 * 512L, 4096 * 512L),
            new PartitionTable.Partition(2, 6144 * 512L, 16384 * 512L)),
        PartitionTable.parse(head, DISK));
  }

  @Test
  void readsGptEntriesBehindTheProtectiveMbr() throws IOException {
    byte[] head = seed("gpt-two-partitions");
    assertEquals(2 * 512 + 128 * 128, PartitionTable.bytesNeeded(head));
    assertEquals(List.of(new PartitionTable.Partition(1, 2048 * 512L, 4096 * 512L),
            new PartitionTable.Partition(2, 6144 * 512L, 16384 * 512L)),
        PartitionTable.parse(head, DISK));
  }

  @Test
  void leavesOutPartitionsBeyondTheImageAndTruncatedEntryArrays() throws IOException {
    assertEquals(List.of(new PartitionTable.Partition(1, 2048 * 512L, 4096 * 512L)),
        PartitionTable.parse(seed("mbr-two-partitions"), 6144 * 512L + 100));
    // 1100 bytes: the GPT header and the first 76 bytes of entry 1, enough for its extent
    assertEquals(List.of(new PartitionTable.Partition(1, 2048 * 512L, 4096 * 512L)),
        PartitionTable.parse(seed("gpt-truncated-entries"), DISK));
    assertEquals(List.of(), PartitionTable.parse(seed("protective-mbr-only"), DISK));
    assertEquals(List.of(), PartitionTable.parse(new byte[4096], DISK));
  }
}
