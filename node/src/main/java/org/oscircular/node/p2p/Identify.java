package org.oscircular.node.p2p;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;
import org.oscircular.protocol.p2p.Varint;
import org.oscircular.protocol.p2p.WireFormatException;
import org.oscircular.protocol.p2p.proto.IdentifyProto;

/**
 * Identify ({@code /ipfs/id/1.0.0}, identify/README.md). The responder writes one varint-length-prefixed
 * {@code Identify} message and closes; the requester reads length-prefixed messages until EOF (js sends
 * up to several) and merges them.
 */
final class Identify {
  static final String PROTOCOL_ID = "/ipfs/id/1.0.0";
  static final String PROTOCOL_VERSION = "ipfs/0.1.0";
  /** Most bytes accepted on an identify stream. */
  static final int MAX_BYTES = 64 * 1024;

  private static final System.Logger LOG = System.getLogger(Identify.class.getName());

  private final Host host;

  Identify(Host host) {
    this.host = host;
  }

  /** Builds this host's identify message for a connection. */
  IdentifyProto.Identify message(Connection c) {
    IdentifyProto.Identify.Builder b = IdentifyProto.Identify.newBuilder()
        .setProtocolVersion(PROTOCOL_VERSION)
        .setAgentVersion(host.config().agentVersion())
        .setPublicKey(ByteString.copyFrom(host.identity().publicKeyProto()))
        .setObservedAddr(ByteString.copyFrom(c.remoteAddress().toBytes()))
        .addAllProtocols(host.protocols());
    for (Multiaddr a : host.listenAddresses()) {
      b.addListenAddrs(ByteString.copyFrom(a.toBytes()));
    }
    return b.build();
  }

  void serve(P2pStream stream) {
    byte[] msg = message(stream.connection()).toByteArray();
    ByteBuf out = Unpooled.buffer(msg.length + 5);
    out.writeBytes(Varint.encode(msg.length)).writeBytes(msg);
    stream.setListener((s, data) -> {});
    stream.write(out);
    stream.closeWrite();
  }

  /** Asks the peer on {@code c} to identify itself; records the answer in the peer store. */
  CompletableFuture<PeerStore.PeerInfo> identify(Connection c) {
    CompletableFuture<PeerStore.PeerInfo> result = new CompletableFuture<>();
    c.openStream(PROTOCOL_ID).whenComplete((stream, err) -> {
      if (err != null) {
        LOG.log(Level.DEBUG, "identify of {0} failed: {1}", c.remotePeer(), err.getMessage());
        result.completeExceptionally(err);
        return;
      }
      ByteBuf acc = Unpooled.buffer();
      stream.setListener(new StreamListener() {
        @Override
        public void onData(P2pStream s, ByteBuf data) {
          if (acc.readableBytes() + data.readableBytes() > MAX_BYTES) {
            fail(s, "identify response exceeds " + MAX_BYTES + " bytes");
            return;
          }
          acc.writeBytes(data);
        }

        @Override
        public void onReadClosed(P2pStream s) {
          try {
            IdentifyProto.Identify id = parse(acc.nioBuffer());
            result.complete(record(c.remotePeer(), id));
          } catch (WireFormatException e) {
            fail(s, e.getMessage());
            return;
          } finally {
            acc.release();
          }
          s.closeWrite();
        }

        @Override
        public void onReset(P2pStream s, Throwable cause) {
          if (acc.refCnt() > 0) {
            acc.release();
          }
          result.completeExceptionally(cause);
        }

        private void fail(P2pStream s, String reason) {
          LOG.log(Level.WARNING, "bad identify from {0}: {1}", c.remotePeer(), reason);
          result.completeExceptionally(new IOException(reason));
          s.reset();
        }
      });
    });
    return result;
  }

  /** Parses and merges the varint-length-prefixed identify messages in {@code in}. */
  static IdentifyProto.Identify parse(ByteBuffer in) {
    IdentifyProto.Identify.Builder merged = IdentifyProto.Identify.newBuilder();
    int count = 0;
    while (in.hasRemaining()) {
      int len = Varint.readLength(in, MAX_BYTES);
      if (in.remaining() < len) {
        throw new WireFormatException("identify message truncated: " + in.remaining() + " of " + len + " bytes");
      }
      ByteBuffer body = in.slice(in.position(), len);
      in.position(in.position() + len);
      try {
        merged.mergeFrom(com.google.protobuf.CodedInputStream.newInstance(body));
      } catch (InvalidProtocolBufferException e) {
        throw new WireFormatException("malformed identify message: " + e.getMessage());
      } catch (IOException e) {
        throw new WireFormatException("malformed identify message: " + e.getMessage());
      }
      if (++count > 16) {
        throw new WireFormatException("more than 16 identify messages");
      }
    }
    return merged.build();
  }

  private PeerStore.PeerInfo record(PeerId peer, IdentifyProto.Identify id) {
    if (id.hasPublicKey() && !peer.matches(id.getPublicKey().toByteArray())) {
      throw new WireFormatException("identify public key does not match peer " + peer);
    }
    List<Multiaddr> addrs = new ArrayList<>();
    for (ByteString a : id.getListenAddrsList()) {
      try {
        addrs.add(Multiaddr.fromBytes(a.toByteArray()));
      } catch (WireFormatException e) {
        LOG.log(Level.DEBUG, "ignoring listen address from {0}: {1}", peer, e.getMessage());
      }
    }
    host.peerStore().addAddresses(peer, addrs);
    host.peerStore().setIdentify(peer, id.getProtocolsList(), id.getAgentVersion());
    return host.peerStore().get(peer).orElseThrow();
  }
}
