package org.oscircular.protocol.format;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * How a block's plaintext is turned into its stored bytes. The id is what the table records.
 * Decoding checks that the output has exactly the expected length.
 */
public enum Codec {
  NONE(0) {
    @Override
    public byte[] encode(byte[] raw, int off, int len) {
      return Arrays.copyOfRange(raw, off, off + len);
    }

    @Override
    public byte[] decode(byte[] stored, int plainLength) throws FormatException {
      if (stored.length != plainLength) {
        throw new FormatException("block is " + stored.length + " bytes, expected " + plainLength);
      }
      return stored.clone();
    }

    @Override
    public void decodeInto(java.nio.ByteBuffer stored, java.nio.ByteBuffer dst, int plainLength)
        throws FormatException {
      if (stored.remaining() != plainLength) {
        throw new FormatException("block is " + stored.remaining() + " bytes, expected " + plainLength);
      }
      dst.put(stored.duplicate());
    }
  },
  DEFLATE(1) {
    @Override
    public byte[] encode(byte[] raw, int off, int len) {
      var deflater = new Deflater(6, true);
      try {
        deflater.setInput(raw, off, len);
        deflater.finish();
        var out = new ByteArrayOutputStream(Math.max(64, len / 2));
        byte[] buf = new byte[64 * 1024];
        while (!deflater.finished()) {
          int n = deflater.deflate(buf);
          out.write(buf, 0, n);
        }
        return out.toByteArray();
      } finally {
        deflater.end();
      }
    }

    @Override
    public byte[] decode(byte[] stored, int plainLength) throws FormatException {
      var inflater = new Inflater(true);
      try {
        inflater.setInput(stored);
        byte[] out = new byte[plainLength];
        int n = 0;
        while (n < plainLength) {
          int got = inflater.inflate(out, n, plainLength - n);
          n += got;
          if (got == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
            break;
          }
        }
        if (n == plainLength && !inflater.finished()) {
          // The output is full: the stream must end here, without producing another byte.
          byte[] probe = new byte[1];
          if (inflater.inflate(probe) != 0) {
            n++;
          }
        }
        if (n != plainLength || !inflater.finished()) {
          throw new FormatException("deflate block does not decode to exactly " + plainLength + " bytes");
        }
        return out;
      } catch (DataFormatException e) {
        throw new FormatException("corrupt deflate block: " + e.getMessage(), e);
      } finally {
        inflater.end();
      }
    }
  },
  ZSTD(2) {
    @Override
    public byte[] encode(byte[] raw, int off, int len) {
      byte[] dst = new byte[(int) Zstd.compressBound(len)];
      long n = Zstd.compressByteArray(dst, 0, dst.length, raw, off, len, 3);
      if (Zstd.isError(n)) {
        throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
      }
      return Arrays.copyOf(dst, (int) n);
    }

    @Override
    public byte[] decode(byte[] stored, int plainLength) throws FormatException {
      long declared = Zstd.getFrameContentSize(stored);
      if (declared != plainLength) {
        throw new FormatException("zstd block declares " + declared + " bytes, expected " + plainLength);
      }
      byte[] out = new byte[plainLength];
      // Reuse decompression contexts: creating one per block costs as much as decoding a small block.
      ZstdDecompressCtx ctx = DCTX_POOL.poll();
      if (ctx == null) {
        ctx = new ZstdDecompressCtx();
      }
      int n;
      try {
        n = ctx.decompressByteArray(out, 0, plainLength, stored, 0, stored.length);
      } catch (ZstdException e) {
        ctx.close();
        throw new FormatException("corrupt zstd block: " + e.getMessage(), e);
      }
      if (DCTX_POOL.size() < 32) {
        DCTX_POOL.offer(ctx);
      } else {
        ctx.close();
      }
      if (n != plainLength) {
        throw new FormatException("corrupt zstd block (length " + n + ")");
      }
      return out;
    }

    @Override
    public void decodeInto(java.nio.ByteBuffer stored, java.nio.ByteBuffer dst, int plainLength)
        throws FormatException {
      boolean heapStored = stored.hasArray();
      if (!dst.isDirect() || !(stored.isDirect() || heapStored)) {
        super.decodeInto(stored, dst, plainLength);
        return;
      }
      if (dst.remaining() < plainLength) {
        throw new IllegalArgumentException("room for " + dst.remaining() + " bytes, block has " + plainLength);
      }
      int from = heapStored ? stored.arrayOffset() + stored.position() : stored.position();
      long declared = heapStored
          ? Zstd.getFrameContentSize(stored.array(), from, stored.remaining())
          : Zstd.getDirectByteBufferFrameContentSize(stored, from, stored.remaining());
      if (declared != plainLength) {
        throw new FormatException("zstd block declares " + declared + " bytes, expected " + plainLength);
      }
      ZstdDecompressCtx ctx = DCTX_POOL.poll();
      if (ctx == null) {
        ctx = new ZstdDecompressCtx();
      }
      int n;
      try {
        // A fetched block arrives as an array: decoded from it straight into dst, without a plaintext array.
        n = heapStored
            ? ctx.decompressByteArrayToDirectByteBuffer(dst, dst.position(), plainLength, stored.array(), from,
                stored.remaining())
            : ctx.decompressDirectByteBuffer(dst, dst.position(), plainLength, stored, from, stored.remaining());
      } catch (ZstdException e) {
        ctx.close();
        throw new FormatException("corrupt zstd block: " + e.getMessage(), e);
      }
      if (DCTX_POOL.size() < 32) {
        DCTX_POOL.offer(ctx);
      } else {
        ctx.close();
      }
      if (n != plainLength) {
        throw new FormatException("corrupt zstd block (length " + n + ")");
      }
      dst.position(dst.position() + plainLength);
    }
  };

  private static final java.util.concurrent.ConcurrentLinkedQueue<ZstdDecompressCtx> DCTX_POOL =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final int id;

  Codec(int id) {
    this.id = id;
  }

  public int id() {
    return id;
  }

  /** Stored bytes for {@code raw[off, off+len)}. */
  public abstract byte[] encode(byte[] raw, int off, int len);

  /** The plaintext of a stored block, which must decode to exactly {@code plainLength} bytes. */
  public abstract byte[] decode(byte[] stored, int plainLength) throws FormatException;

  /**
   * Decodes the stored bytes between {@code stored}'s position and limit into {@code dst} at its position,
   * which advances by {@code plainLength}; {@code stored}'s position does not move. Same checks as
   * {@link #decode}. With direct buffers zstd decodes straight into {@code dst}, without heap copies; on
   * failure {@code dst}'s position is unchanged (its bytes past the position may have been written).
   */
  public void decodeInto(java.nio.ByteBuffer stored, java.nio.ByteBuffer dst, int plainLength)
      throws FormatException {
    byte[] in = new byte[stored.remaining()];
    stored.duplicate().get(in);
    dst.put(decode(in, plainLength));
  }

  public static Codec byId(int id) throws FormatException {
    for (Codec c : values()) {
      if (c.id == id) {
        return c;
      }
    }
    throw new FormatException("unknown codec id " + id);
  }

  /** Parses a codec name as the CLI and config write it: none, deflate, zstd. */
  public static Codec parse(String name) {
    for (Codec c : values()) {
      if (c.name().equalsIgnoreCase(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown codec '" + name + "' (expected none, deflate or zstd)");
  }
}
