package org.oscircular.node.kad;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
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
    private byte[] buffer = new byte[0];

    List<byte[]> feed(ByteBuf data) throws KadMessageException {
        byte[] incoming = new byte[data.readableBytes()];
        data.readBytes(incoming);
        byte[] all = Arrays.copyOf(buffer, buffer.length + incoming.length);
        System.arraycopy(incoming, 0, all, buffer.length, incoming.length);
        ByteBuffer in = ByteBuffer.wrap(all);
        List<byte[]> out = new ArrayList<>(1);
        while (true) {
            int start = in.position();
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
                in.position(start);
                break;
            }
            byte[] message = new byte[(int) length];
            in.get(message);
            out.add(message);
        }
        buffer = Arrays.copyOfRange(all, in.position(), all.length);
        return out;
    }

    /** Whether bytes of an unfinished message are pending. */
    boolean hasPartial() {
        return buffer.length > 0;
    }

    static ByteBuf frame(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 5);
        out.writeBytes(Varint.encode(message.length));
        out.writeBytes(message);
        return Unpooled.wrappedBuffer(out.toByteArray());
    }
}
