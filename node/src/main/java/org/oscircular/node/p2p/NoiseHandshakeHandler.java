package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.oscircular.protocol.p2p.NoiseHandshake;
import org.oscircular.protocol.p2p.PeerAuthenticationException;
import org.oscircular.protocol.p2p.WireFormatException;

/**
 * Runs the {@link NoiseHandshake} over {@code uint16 big-endian length || message} frames, then hands
 * the result to {@link Done} (which installs the transport codecs) and removes itself.
 */
final class NoiseHandshakeHandler extends ByteToMessageDecoder {
  interface Done {
    void completed(ChannelHandlerContext ctx, NoiseHandshake.Result result);
  }

  private final NoiseHandshake handshake;
  private final Done done;
  private final UpgradeFailure failure;

  NoiseHandshakeHandler(NoiseHandshake handshake, Done done, UpgradeFailure failure) {
    this.handshake = handshake;
    this.done = done;
    this.failure = failure;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (handshake.needsToWrite()) {
      send(ctx, handshake.writeMessage());
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 2) {
      return;
    }
    int len = in.getUnsignedShort(in.readerIndex());
    if (in.readableBytes() < 2 + len) {
      return;
    }
    in.skipBytes(2);
    byte[] msg = new byte[len];
    in.readBytes(msg);
    try {
      handshake.readMessage(msg);
      if (handshake.needsToWrite()) {
        send(ctx, handshake.writeMessage());
      }
    } catch (WireFormatException | PeerAuthenticationException e) {
      in.skipBytes(in.readableBytes());
      failure.fail(ctx, "noise handshake failed: " + e.getMessage());
      return;
    }
    if (handshake.isComplete()) {
      done.completed(ctx, handshake.result());
      ctx.pipeline().remove(this);
    }
  }

  private static void send(ChannelHandlerContext ctx, byte[] msg) {
    ByteBuf b = ctx.alloc().buffer(2 + msg.length);
    b.writeShort(msg.length).writeBytes(msg);
    ctx.writeAndFlush(b);
  }
}
