package org.oscircular.node.kad;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.protocol.kad.KadCodec;
import org.oscircular.protocol.kad.KadMessageException;
import org.oscircular.protocol.p2p.Varint;
import org.oscircular.protocol.p2p.WireFormatException;

/**
 * Splits a kad stream into messages: each is {@code uvarint(length) || protobuf}. Bytes arrive in arbitrary pieces;
 * {@link #feed} returns the complete messages so far. A length above {@link KadCodec#MAX_MESSAGE_BYTES} or a bad
 * varint is a {@link KadMessageException}: the caller resets the stream.
 */
final class KadFrameReader {
    /** Pending bytes are {@code buffer[start, end)}: at most one unfinished frame between feeds. */
    private byte[] buffer = new byte[256];
    private int start;
    private int end;

    /**
     * Appends {@code data} (consuming it) and returns the messages completed by it. Appending is amortised: a peer
     * that drips a large message in tiny pieces costs linear, not quadratic, copying.
     */
    List<byte[]> feed(ByteBuf data) throws KadMessageException {
        int n = data.readableBytes();
        makeRoom(n);
        data.readBytes(buffer, end, n);
        end += n;
        ByteBuffer in = ByteBuffer.wrap(buffer, start, end - start);
        List<byte[]> out = new ArrayList<>(1);
        while (true) {
            int frameStart = in.position();
            long length;
            try {
                length = Varint.read(in);
            } catch (WireFormatException e) {
                throw new KadMessageException("bad kad frame length: " + e.getMessage());
            }
            if (length == Varint.INCOMPLETE) break;
            if (length > KadCodec.MAX_MESSAGE_BYTES) {
                throw new KadMessageException("kad frame of " + length + " bytes exceeds " + KadCodec.MAX_MESSAGE_BYTES);
            }
            if (in.remaining() < length) {
                in.position(frameStart);
                break;
            }
            byte[] message = new byte[(int) length];
            in.get(message);
            out.add(message);
        }
        start = in.position();
        if (start == end) {
            start = 0;
            end = 0;
        }
        return out;
    }

    private void makeRoom(int n) {
        if (buffer.length - end >= n) return;
        int pending = end - start;
        if (start > 0 && buffer.length - pending >= n) {
            System.arraycopy(buffer, start, buffer, 0, pending);
        } else {
            byte[] bigger = new byte[Math.max(buffer.length * 2, pending + n)];
            System.arraycopy(buffer, start, bigger, 0, pending);
            buffer = bigger;
        }
        start = 0;
        end = pending;
    }

    /** Whether bytes of an unfinished message are pending. */
    boolean hasPartial() {
        return end > start;
    }

    static ByteBuf frame(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 5);
        out.writeBytes(Varint.encode(message.length));
        out.writeBytes(message);
        return Unpooled.wrappedBuffer(out.toByteArray());
    }
}
