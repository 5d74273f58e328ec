package org.oscircular.protocol.format;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Binary form of an {@link ImageTable} (the payload of a signed table document). Layout in
 * docs/format.md. Runs of zero blocks cost two bytes or so; a stored block costs 53-56 bytes, so a
 * 4 GiB image at 256 KiB (16384 blocks) costs at most about 900 KiB.
 */
public final class TableCodec {
  static final byte[] MAGIC = {'C', 'T', 'B', 'L'};
  static final int FORMAT_VERSION = 1;
  /** Tables larger than this are refused before parsing (about 1.2M stored blocks). */
  public static final int MAX_TABLE_BYTES = 64 * 1024 * 1024;
  private static final int TAG_ZERO_RUN = 0;
  private static final int TAG_STORED = 1;
  private static final int MAX_BLOBS = 16;
  private static final int MAX_PROPERTIES = 64;

  private TableCodec() {}

  public static byte[] encode(ImageTable t) {
    var out = new Wire.Out();
    out.bytes(MAGIC).u16(FORMAT_VERSION);
    out.str(t.name()).str(t.version());
    out.u8(Integer.numberOfTrailingZeros(t.blockSize()));
    out.u8(t.codec().id());
    out.i64(t.created().toEpochMilli()).i64(t.expires().toEpochMilli());
    out.u16(t.properties().size());
    t.properties().forEach((k, v) -> out.str(k).str(v));
    out.u8(1 + t.attachments().size());
    writeBlob(out, "image", t.image());
    t.attachments().forEach((k, v) -> writeBlob(out, k, v));
    out.u32(t.bootProfile().size());
    for (int i : t.bootProfile()) {
      out.varint(i);
    }
    return out.toByteArray();
  }

  private static void writeBlob(Wire.Out out, String name, Blob blob) {
    out.str(name).i64(blob.length()).u32(blob.blocks().size());
    List<BlockEntry> blocks = blob.blocks();
    for (int i = 0; i < blocks.size(); ) {
      if (blocks.get(i) instanceof BlockEntry.Stored s) {
        out.u8(TAG_STORED).bytes(s.name().raw()).bytes(s.sha256Raw()).varint(s.storedLength());
        i++;
      } else {
        int run = 0;
        while (i < blocks.size() && blocks.get(i) instanceof BlockEntry.Zero) {
          run++;
          i++;
        }
        out.u8(TAG_ZERO_RUN).varint(run);
      }
    }
  }

  public static ImageTable decode(byte[] data) throws FormatException {
    if (data.length > MAX_TABLE_BYTES) {
      throw new FormatException("table is " + data.length + " bytes, more than the limit of " + MAX_TABLE_BYTES);
    }
    var in = new Wire.In(data, "table");
    byte[] magic = in.bytes(4, "magic");
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw in.error("not an OS Circular table (bad magic)");
    }
    int fv = in.u16("format version");
    if (fv != FORMAT_VERSION) {
      throw in.error("unsupported table format version " + fv + " (this build reads " + FORMAT_VERSION + ")");
    }
    String name = in.str("name");
    String version = in.str("version");
    int shift = in.u8("block size");
    if (shift < 12 || shift > 22) {
      throw in.error("block size 2^" + shift + " is outside 4 KiB..4 MiB");
    }
    int blockSize = 1 << shift;
    Codec codec = Codec.byId(in.u8("codec"));
    long created = in.i64("created");
    long expires = in.i64("expires");
    int nprops = in.u16("property count");
    if (nprops > MAX_PROPERTIES) {
      throw in.error("too many properties: " + nprops);
    }
    Map<String, String> props = new LinkedHashMap<>();
    String lastKey = null;
    for (int i = 0; i < nprops; i++) {
      String key = in.str("property name");
      if (lastKey != null && key.compareTo(lastKey) <= 0) {
        throw in.error("property names must be sorted and unique ('" + key + "' after '" + lastKey + "')");
      }
      lastKey = key;
      props.put(key, in.str("property value"));
    }
    int nblobs = in.u8("blob count");
    if (nblobs < 1 || nblobs > MAX_BLOBS) {
      throw in.error("blob count " + nblobs + " is outside 1.." + MAX_BLOBS);
    }
    Blob image = null;
    Map<String, Blob> attachments = new LinkedHashMap<>();
    String lastAttachment = null;
    for (int b = 0; b < nblobs; b++) {
      String blobName = in.str("blob name");
      Blob blob = readBlob(in, blobName, blockSize);
      if (b == 0) {
        if (!blobName.equals("image")) {
          throw in.error("first blob must be 'image', got '" + blobName + "'");
        }
        image = blob;
        continue;
      }
      if (lastAttachment != null && blobName.compareTo(lastAttachment) <= 0 || blobName.equals("image")) {
        throw in.error("attachments must be sorted and unique ('" + blobName + "' is out of order or repeated)");
      }
      lastAttachment = blobName;
      attachments.put(blobName, blob);
    }
    long nprofile = in.u32("boot profile length");
    if (nprofile > in.remaining()) {
      throw in.error("boot profile claims " + nprofile + " entries but only " + in.remaining() + " bytes remain");
    }
    List<Integer> profile = new ArrayList<>((int) nprofile);
    for (long i = 0; i < nprofile; i++) {
      long idx = in.varint("boot profile entry");
      if (idx > Integer.MAX_VALUE) {
        throw in.error("boot profile entry " + idx + " is out of range");
      }
      profile.add((int) idx);
    }
    in.expectEnd();
    try {
      return new ImageTable(name, version, blockSize, codec, Instant.ofEpochMilli(created),
          Instant.ofEpochMilli(expires), image, attachments, props, profile);
    } catch (IllegalArgumentException e) {
      throw in.error(e.getMessage());
    }
  }

  private static Blob readBlob(Wire.In in, String blobName, int blockSize) throws FormatException {
    long length = in.i64("length of " + blobName);
    if (length < 0) {
      throw in.error(blobName + " has negative length " + length);
    }
    long count = in.u32("block count of " + blobName);
    long expected = (length + blockSize - 1) / blockSize;
    if (count != expected) {
      throw in.error(blobName + " of " + length + " bytes needs " + expected + " blocks, table lists " + count);
    }
    // Each stored block needs at least 54 bytes, each zero run at least 2: bound the allocation by input.
    List<BlockEntry> blocks = new ArrayList<>((int) Math.min(count, in.remaining()));
    boolean afterZeroRun = false;
    while (blocks.size() < count) {
      int tag = in.u8("block tag");
      if (tag == TAG_ZERO_RUN && afterZeroRun) {
        throw in.error("two zero runs in a row at block " + blocks.size() + " of " + blobName);
      }
      afterZeroRun = tag == TAG_ZERO_RUN;
      switch (tag) {
        case TAG_STORED -> {
          byte[] sha1 = in.bytes(BlockName.LENGTH, "block name");
          byte[] sha256 = in.bytes(32, "block sha256");
          long len = in.varint("stored length");
          if (len <= 0 || len > blockSize + blockSize / 8 + 1024) {
            throw in.error("block " + blocks.size() + " of " + blobName + " has implausible stored length " + len);
          }
          blocks.add(new BlockEntry.Stored(new BlockName(sha1), sha256, (int) len));
        }
        case TAG_ZERO_RUN -> {
          long run = in.varint("zero run");
          if (run == 0 || run > count - blocks.size()) {
            throw in.error("zero run of " + run + " at block " + blocks.size() + " of " + blobName + " is out of range");
          }
          for (long i = 0; i < run; i++) {
            blocks.add(BlockEntry.Zero.INSTANCE);
          }
        }
        default -> throw in.error("unknown block tag " + tag + " at block " + blocks.size() + " of " + blobName);
      }
    }
    return new Blob(length, blocks);
  }
}
