package org.oscircular.node.p2p;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;

/**
 * Loopback benchmark, run by {@code bench/p2p-throughput.sh}: echo throughput through
 * noise + yamux (one stream, and four concurrent streams) against a plain Netty TCP echo measured
 * in the same run, and the rate of full connection setups (TCP + multistream + noise + yamux).
 * Prints medians of several rounds and the ratios to the baseline.
 */
public final class P2pBench {
  private static final long BYTES = Long.getLong("bench.bytes", 128L << 20);
  private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
  private static final int HANDSHAKES = Integer.getInteger("bench.handshakes", 200);

  public static void main(String[] args) throws Exception {
    System.out.printf("echo of %d MiB per round, %d rounds, medians (MiB/s counts bytes echoed back)%n", BYTES >> 20, ROUNDS);
    double plain = median(ROUNDS, P2pBench::plainNettyEcho);
    System.out.printf("plain Netty TCP echo:          %8.1f MiB/s%n", plain);
    try (Host server = newHost(); Host client = newHost()) {
      Multiaddr addr = server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).withPeerId(server.peerId());
      Connection c = client.dial(addr).get(10, TimeUnit.SECONDS);
      double one = median(ROUNDS, () -> p2pEcho(c, 1));
      System.out.printf("noise+yamux echo, 1 stream:    %8.1f MiB/s  (%.2fx plain)%n", one, one / plain);
      double four = median(ROUNDS, () -> p2pEcho(c, 4));
      System.out.printf("noise+yamux echo, 4 streams:   %8.1f MiB/s  (%.2fx plain)%n", four, four / plain);
      double hs = median(3, () -> handshakes(client, addr));
      System.out.printf("connection setups (tcp+mss+noise+yamux), sequential: %.0f handshakes/s%n", hs);
    }
  }

  private interface Round {
    double run() throws Exception;
  }

  private static double median(int rounds, Round r) throws Exception {
    r.run(); // warm-up
    double[] v = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      v[i] = r.run();
    }
    Arrays.sort(v);
    return v[rounds / 2];
  }

  private static Host newHost() {
    Host h = new Host(IdentityKey.generate(new SecureRandom()), HostConfig.defaults().withIoThreads(1), new SecureRandom());
    h.registerHandler(Echo.PROTOCOL_ID, Echo::serve);
    return h;
  }

  private static double p2pEcho(Connection c, int streams) throws Exception {
    long per = BYTES / streams;
    long start = System.nanoTime();
    List<CompletableFuture<byte[]>> fs = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      fs.add(Echo.exchangeFast(c.openStream(Echo.PROTOCOL_ID).get(10, TimeUnit.SECONDS), per));
    }
    for (CompletableFuture<byte[]> f : fs) {
      f.get(120, TimeUnit.SECONDS);
    }
    return mibPerSecond(per * streams, System.nanoTime() - start);
  }

  private static double handshakes(Host client, Multiaddr addr) throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < HANDSHAKES; i++) {
      Connection c = client.dial(addr).get(10, TimeUnit.SECONDS);
      c.close().get(10, TimeUnit.SECONDS);
    }
    return HANDSHAKES / ((System.nanoTime() - start) / 1e9);
  }

  private static double mibPerSecond(long bytes, long nanos) {
    return bytes / 1048576.0 / (nanos / 1e9);
  }

  private static double plainNettyEcho() throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    try {
      Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  ctx.write(msg);
                }

                @Override
                public void channelReadComplete(ChannelHandlerContext ctx) {
                  ctx.flush();
                  if (!ctx.channel().isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                  }
                }

                @Override
                public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                  ctx.channel().config().setAutoRead(ctx.channel().isWritable());
                }
              });
            }
          }).bind("127.0.0.1", 0).sync().channel();
      CompletableFuture<Long> done = new CompletableFuture<>();
      byte[] chunk = new byte[64 * 1024];
      new SecureRandom().nextBytes(chunk);
      long start = System.nanoTime();
      new Bootstrap().group(group).channel(EpollSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInboundHandlerAdapter() {
            long sent;
            long received;

            @Override
            public void channelActive(ChannelHandlerContext ctx) {
              pump(ctx);
            }

            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
              pump(ctx);
            }

            private void pump(ChannelHandlerContext ctx) {
              while (sent < BYTES && ctx.channel().isWritable()) {
                int n = (int) Math.min(chunk.length, BYTES - sent);
                ctx.write(Unpooled.wrappedBuffer(chunk, 0, n));
                sent += n;
              }
              ctx.flush();
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              received += ((ByteBuf) msg).readableBytes();
              ((ByteBuf) msg).release();
              if (received == BYTES) {
                done.complete(System.nanoTime() - start);
                ctx.close();
              }
            }
          }).connect(server.localAddress()).sync();
      long nanos = done.get(120, TimeUnit.SECONDS);
      server.close().sync();
      return mibPerSecond(BYTES, nanos);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
