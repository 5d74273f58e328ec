package org.oscircular.node.publish;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The partitions of a whole-disk image, from its MBR or GPT (512-byte sectors), so a file system
 * inside a partition can be read at its byte offset. Sans-I/O: it parses the image's first bytes.
 *
 * <p>MBR: the four primary entries at byte 446 (type byte at +4, first sector at +8, sector count
 * at +12, little-endian), signature 0x55 0xAA at 510; extended partitions are not followed. An entry of
 * type 0xEE marks a protective MBR: the GPT header at sector 1 ({@code EFI PART}) then gives the entry
 * array's first sector (+72), entry count (+80) and entry size (+84); an entry is used when its type
 * GUID (bytes 0–15) is not zero, and spans sectors first (+32) to last (+40), inclusive. Partitions
 * that do not lie inside the image are left out.
 */
final class PartitionTable {
  static final int SECTOR = 512;
  /** GPT entry arrays hold at most this many entries (the usual is 128). */
  static final int MAX_GPT_ENTRIES = 1024;

  /** A partition: its number (from 1, as in /dev/sda1), byte offset and length in the image. */
  record Partition(int number, long offset, long length) {}

  private PartitionTable() {}

  /** How many leading bytes of the image {@link #parse} needs to see every GPT entry. */
  static int bytesNeeded(byte[] head) {
    ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
    if (head.length < 2 * SECTOR || !isGpt(head)) {
      return 2 * SECTOR;
    }
    long entriesLba = b.getLong(SECTOR + 72);
    long count = Integer.toUnsignedLong(b.getInt(SECTOR + 80));
    long size = Integer.toUnsignedLong(b.getInt(SECTOR + 84));
    if (entriesLba < 2 || entriesLba > 4096 || size < 128 || size > 4096) {
      return 2 * SECTOR;
    }
    return (int) (entriesLba * SECTOR + Math.min(count, MAX_GPT_ENTRIES) * size);
  }

  /**
   * The partitions described by {@code head} (the image's first bytes, at least
   * {@link #bytesNeeded} of them) of an image of {@code imageLength} bytes; empty if there is no
   * partition table.
   */
  static List<Partition> parse(byte[] head, long imageLength) {
    List<Partition> out = new ArrayList<>();
    if (head.length < SECTOR || (head[510] & 0xff) != 0x55 || (head[511] & 0xff) != 0xaa) {
      return out;
    }
    ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
    boolean protective = false;
    for (int i = 0; i < 4; i++) {
      int e = 446 + 16 * i;
      int type = head[e + 4] & 0xff;
      protective |= type == 0xee;
      long first = Integer.toUnsignedLong(b.getInt(e + 8));
      long count = Integer.toUnsignedLong(b.getInt(e + 12));
      if (type != 0 && type != 0xee && type != 0x05 && type != 0x0f && type != 0x85) {
        add(out, i + 1, first, count, imageLength);
      }
    }
    if (protective && head.length >= 2 * SECTOR && isGpt(head)) {
      out.clear();
      long entriesLba = b.getLong(SECTOR + 72);
      long count = Integer.toUnsignedLong(b.getInt(SECTOR + 80));
      long size = Integer.toUnsignedLong(b.getInt(SECTOR + 84));
      if (entriesLba < 2 || entriesLba > 4096 || size < 128 || size > 4096) {
        return out;
      }
      for (long i = 0; i < Math.min(count, MAX_GPT_ENTRIES); i++) {
        long at = entriesLba * SECTOR + i * size;
        if (at + 48 > head.length) {
          break;
        }
        int e = (int) at;
        if (b.getLong(e) == 0 && b.getLong(e + 8) == 0) {
          continue;
        }
        long first = b.getLong(e + 32);
        long last = b.getLong(e + 40);
        if (first >= 0 && last >= first) {
          add(out, (int) i + 1, first, last - first + 1, imageLength);
        }
      }
    }
    return out;
  }

  private static boolean isGpt(byte[] head) {
    return new String(head, SECTOR, 8, StandardCharsets.US_ASCII).equals("EFI PART");
  }

  private static void add(List<Partition> out, int number, long firstSector, long sectors,
      long imageLength) {
    if (firstSector <= 0 || sectors <= 0 || firstSector > Long.MAX_VALUE / SECTOR
        || sectors > Long.MAX_VALUE / SECTOR) {
      return;
    }
    long offset = firstSector * SECTOR;
    long length = sectors * SECTOR;
    if (offset < imageLength && length <= imageLength - offset) {
      out.add(new Partition(number, offset, length));
    }
  }
}
