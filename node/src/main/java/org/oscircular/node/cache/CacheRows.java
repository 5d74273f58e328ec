package org.oscircular.node.cache;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.FormatException;

/**
 * Encodings of the cache's own rows (see docs/cache.md). Rows read back from disk are parsed here and
 * anything malformed is a {@link FormatException}, so a damaged cache is repaired (the row dropped)
 * instead of crashing the node.
 */
final class CacheRows {
  private CacheRows() {}

  /** A {@code meta} row: stored length and recency tick of a cached block. */
  record Meta(int size, long tick) {
    static final int LENGTH = 12;

    byte[] encode() {
      return ByteBuffer.allocate(LENGTH).putInt(size).putLong(tick).array();
    }

    static Meta decode(byte[] v) throws FormatException {
      if (v == null || v.length != LENGTH) {
        throw new FormatException("meta row of " + (v == null ? 0 : v.length) + " bytes, expected " + LENGTH);
      }
      ByteBuffer b = ByteBuffer.wrap(v);
      int size = b.getInt();
      long tick = b.getLong();
      if (size <= 0 || tick < 0) {
        throw new FormatException("meta row with size " + size + " and tick " + tick);
      }
      return new Meta(size, tick);
    }
  }

  /** A {@code pins} key: image id (UTF-8), 0x00, 20-byte SHA1 name. */
  record PinKey(String imageId, BlockName name) {
    static byte[] prefix(String imageId) {
      byte[] id = imageId.getBytes(StandardCharsets.UTF_8);
      return Arrays.copyOf(id, id.length + 1);
    }

    byte[] encode() {
      byte[] p = prefix(imageId);
      byte[] k = Arrays.copyOf(p, p.length + BlockName.LENGTH);
      System.arraycopy(name.sha1(), 0, k, p.length, BlockName.LENGTH);
      return k;
    }

    static PinKey decode(byte[] key) throws FormatException {
      int idLen = key.length - BlockName.LENGTH - 1;
      if (idLen < 1 || key[idLen] != 0) {
        throw new FormatException("pin key of " + key.length + " bytes is not IMAGE:VERSION, 0x00, SHA1");
      }
      for (int i = 0; i < idLen; i++) {
        if (key[i] == 0) {
          throw new FormatException("pin key has a NUL inside its image id");
        }
      }
      String id;
      try {
        id = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(key, 0, idLen)).toString();
      } catch (CharacterCodingException e) {
        throw new FormatException("pin key's image id is not UTF-8");
      }
      return new PinKey(id, new BlockName(Arrays.copyOfRange(key, idLen + 1, key.length)));
    }
  }

  /** A {@code pins} value: the block's stored length. */
  static byte[] pinValue(int size) {
    return ByteBuffer.allocate(4).putInt(size).array();
  }

  static int pinValue(byte[] v) throws FormatException {
    if (v == null || v.length != 4 || ByteBuffer.wrap(v).getInt() <= 0) {
      throw new FormatException("pin row value is not a positive u32 length");
    }
    return ByteBuffer.wrap(v).getInt();
  }

  /** A {@code blocks} or {@code meta} key: the 20-byte SHA1 name. */
  static BlockName blockKey(byte[] key) throws FormatException {
    if (key.length != BlockName.LENGTH) {
      throw new FormatException("block key of " + key.length + " bytes, expected " + BlockName.LENGTH);
    }
    return new BlockName(key);
  }
}
