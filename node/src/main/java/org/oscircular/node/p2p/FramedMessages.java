package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import org.oscircular.protocol.p2p.Varint;

/**
 * Varint-length-prefixed messages on a {@link P2pStream}, the framing of most libp2p protocols
 * (identify, kad-dht) and of ours. {@link #listener} reassembles messages across reads and hands each
 * complete body to a callback; a length above the limit or a malformed prefix resets the stream.
 */
public final class FramedMessages {
  private FramedMessages() {}

  /** Receives whole messages; runs on the connection's I/O thread and must not block. */
  public interface Handler {
    void onMessage(P2pStream stream, byte[] body);

    /** The stream ended: {@code cause} is null after a clean FIN, else why it was reset. */
    default void onEnd(P2pStream stream, Throwable cause) {}
  }

  /** A frame holding {@code body}, ready to {@link P2pStream#write}. */
  public static ByteBuf frame(byte[] body) {
    ByteBuf out = Unpooled.buffer(Varint.size(body.length) + body.length);
    out.writeBytes(Varint.encode(body.length)).writeBytes(body);
    return out;
  }

  /** A stream listener that cuts the byte stream into messages of at most {@code maxBytes}. */
  public static StreamListener listener(int maxBytes, Handler handler) {
    return new StreamListener() {
      private ByteBuf acc = Unpooled.buffer(0);
      private boolean failed;

      @Override
      public void onData(P2pStream s, ByteBuf data) {
        if (failed) {
          return;
        }
        acc.writeBytes(data);
        try {
          while (acc.isReadable()) {
            ByteBuffer view = acc.nioBuffer();
            long len = Varint.read(view);
            if (len == Varint.INCOMPLETE) {
              break;
            }
            if (len > maxBytes) {
              throw new IllegalStateException("message of " + len + " bytes exceeds the limit of " + maxBytes);
            }
            int header = view.position();
            if (acc.readableBytes() - header < len) {
              break;
            }
            acc.skipBytes(header);
            byte[] body = new byte[(int) len];
            acc.readBytes(body);
            handler.onMessage(s, body);
          }
          acc.discardReadBytes();
        } catch (RuntimeException e) {
          failed = true;
          release();
          s.reset();
          handler.onEnd(s, e);
        }
      }

      @Override
      public void onReadClosed(P2pStream s) {
        release();
        if (!failed) {
          handler.onEnd(s, null);
        }
      }

      @Override
      public void onReset(P2pStream s, Throwable cause) {
        release();
        if (!failed) {
          failed = true;
          handler.onEnd(s, cause == null ? new java.io.IOException("stream reset") : cause);
        }
      }

      private void release() {
        if (acc.refCnt() > 0) {
          acc.release();
        }
        acc = Unpooled.EMPTY_BUFFER;
      }
    };
  }
}
