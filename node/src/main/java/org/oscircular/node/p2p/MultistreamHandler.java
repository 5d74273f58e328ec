package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.ByteBuffer;
import java.util.List;
import org.oscircular.protocol.p2p.Multistream;

/**
 * Drives one multistream-select negotiation on a connection (on raw TCP for the security protocol, on
 * the noise channel for the muxer). On success it calls {@link Next#selected} to install the next
 * handler after itself and removes itself; bytes that arrived after the final message go on to that
 * handler.
 */
final class MultistreamHandler extends ByteToMessageDecoder {
  /** Installs what follows the negotiation. */
  interface Next {
    void selected(ChannelHandlerContext ctx, String protocol);
  }

  private final Multistream negotiation;
  private final Next next;
  private final UpgradeFailure failure;
  private boolean started;

  MultistreamHandler(Multistream negotiation, Next next, UpgradeFailure failure) {
    this.negotiation = negotiation;
    this.next = next;
    this.failure = failure;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start(ctx);
    super.channelActive(ctx);
  }

  private void start(ChannelHandlerContext ctx) {
    if (!started) {
      started = true;
      ctx.writeAndFlush(Unpooled.wrappedBuffer(negotiation.start()));
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    ByteBuffer nio = in.nioBuffer();
    byte[] reply = negotiation.onInput(nio);
    in.skipBytes(nio.position());
    if (reply.length > 0) {
      ctx.writeAndFlush(Unpooled.wrappedBuffer(reply));
    }
    switch (negotiation.outcome()) {
      case Multistream.Selected s -> {
        next.selected(ctx, s.protocol());
        ctx.pipeline().remove(this);
      }
      case Multistream.Failed f -> {
        in.skipBytes(in.readableBytes());
        failure.fail(ctx, "multistream-select failed: " + f.reason());
      }
      case Multistream.Pending p -> {}
    }
  }
}
