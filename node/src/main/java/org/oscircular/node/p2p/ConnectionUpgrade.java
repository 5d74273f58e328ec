package org.oscircular.node.p2p;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multistream;
import org.oscircular.protocol.p2p.NoiseHandshake;
import org.oscircular.protocol.p2p.PeerId;
import org.oscircular.protocol.p2p.X25519;

/**
 * Turns a fresh TCP channel into a {@link YamuxSession}: multistream-select {@code /noise}, the noise
 * XX handshake, multistream-select {@code /yamux/1.0.0} over the encrypted channel, then yamux. Each
 * step installs the next handler and removes itself, passing on any bytes that arrived early.
 */
final class ConnectionUpgrade {
  private static final System.Logger LOG = System.getLogger(ConnectionUpgrade.class.getName());

  private ConnectionUpgrade() {}

  static void install(
      Channel ch, Host host, boolean initiator, PeerId expectedPeer, CompletableFuture<YamuxSession> result) {
    String network = host.config().psk().map(k -> " (private network " + k.fingerprint()
        + ": does the peer use the same p2p.psk-file?)").orElse("");
    UpgradeFailure failure = (ctx, reason) -> {
      LOG.log(Level.WARNING, "closing connection {0} {1}: {2}{3}",
          initiator ? "to" : "from", describe(ch, expectedPeer), reason, network);
      result.completeExceptionally(new IOException(reason));
      ctx.close();
    };
    ch.closeFuture().addListener(f -> {
      if (initiator && ch.remoteAddress() == null) {
        // The connect itself failed (refused, unreachable): the dialler's connect listener says why, and this
        // listener may run before that one is even added, so it must not answer first with a vaguer reason.
        return;
      }
      if (!result.isDone()) {
        // Dialling: worth a line (a wrong address or key). Accepting: scanners do this all the time.
        LOG.log(initiator ? Level.WARNING : Level.DEBUG, "connection {0} {1} closed by the peer during setup{2}",
            initiator ? "to" : "from", describe(ch, expectedPeer), network);
      }
      result.completeExceptionally(new IOException("connection " + describe(ch, expectedPeer) + " closed during setup"));
    });
    ch.eventLoop().schedule(() -> {
      if (!result.isDone()) {
        LOG.log(Level.WARNING, "closing connection {0}: setup took longer than {1}", describe(ch, expectedPeer),
            host.config().handshakeTimeout());
        result.completeExceptionally(new IOException("connection setup timed out"));
        ch.close();
      }
    }, host.config().handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);

    host.config().psk().ifPresent(psk -> ch.pipeline().addLast("pnet", new PnetHandler(psk, host.random())));
    Multistream security = initiator
        ? Multistream.dialer(List.of(NoiseHandshake.PROTOCOL_ID))
        : Multistream.listener(NoiseHandshake.PROTOCOL_ID::equals);
    ch.pipeline().addLast("mss-security", new MultistreamHandler(security,
        (ctx, proto) -> ctx.pipeline().addAfter(ctx.name(), "noise-handshake",
            new NoiseHandshakeHandler(newHandshake(host, initiator, expectedPeer),
                (hctx, hs) -> secured(hctx, host, initiator, hs, result, failure), failure)),
        failure));
  }

  private static NoiseHandshake newHandshake(Host host, boolean initiator, PeerId expected) {
    X25519 ephemeral = X25519.generate(host.random());
    return initiator
        ? NoiseHandshake.initiator(host.identity(), host.noiseStaticKey(), ephemeral, expected)
        : NoiseHandshake.responder(host.identity(), host.noiseStaticKey(), ephemeral);
  }

  private static void secured(ChannelHandlerContext ctx, Host host, boolean initiator, NoiseHandshake.Result hs,
      CompletableFuture<YamuxSession> result, UpgradeFailure failure) {
    String name = ctx.name();
    ctx.pipeline().addAfter(name, "noise-encoder", new NoiseFrameEncoder(hs.sender()));
    ctx.pipeline().addAfter("noise-encoder", "noise-decoder", new NoiseFrameDecoder(hs.receiver()));
    Multistream muxer = initiator
        ? Multistream.dialer(List.of(YamuxSession.PROTOCOL_ID))
        : Multistream.listener(YamuxSession.PROTOCOL_ID::equals);
    Multiaddr remote = toMultiaddr((InetSocketAddress) ctx.channel().remoteAddress());
    ctx.pipeline().addAfter("noise-decoder", "mss-muxer", new MultistreamHandler(muxer, (mctx, proto) -> {
      YamuxSession session = new YamuxSession(host, hs.remotePeer(), remote,
          initiator ? Connection.Direction.OUTBOUND : Connection.Direction.INBOUND);
      mctx.pipeline().addAfter(mctx.name(), "yamux", session);
      result.complete(session);
    }, failure));
  }

  static Multiaddr toMultiaddr(InetSocketAddress a) {
    return Multiaddr.tcp(a.getAddress(), a.getPort());
  }

  private static String describe(Channel ch, PeerId expected) {
    return String.valueOf(ch.remoteAddress()) + (expected == null ? "" : " (" + expected + ")");
  }
}
