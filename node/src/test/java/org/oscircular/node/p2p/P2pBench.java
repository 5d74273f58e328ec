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
import java.lang.management.ManagementFactory;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;

/**
 * Loopback benchmark, run by {@code bench/p2p-throughput.sh}. Two hosts in one JVM, one I/O thread
 * each, one connection between them:
 *
 * <ul>
 *   <li>echo through noise + yamux (one stream, four concurrent streams) against a plain Netty TCP echo;
 *   <li>one-way transfer through noise + yamux (one and four streams) against plain one-way TCP, the
 *       fair comparison: an echo encrypts and decrypts every byte twice;
 *   <li>the rate of full connection setups (TCP + multistream + noise + yamux).
 * </ul>
 *
 * Prints medians of several rounds and the ratios to the baselines measured in the same run, both in
 * wall-clock MiB/s and in MiB per second of process CPU time (the latter is steadier on a shared machine).
 */
public final class P2pBench {
  private static final long BYTES = Long.getLong("bench.bytes", 256L << 20);
  private static final int ROUNDS = Integer.getInteger("bench.rounds", 5);
  private static final int HANDSHAKES = Integer.getInteger("bench.handshakes", 200);
  private static final String SINK = "/circular/test/sink/1.0.0";
  /** With {@code -Dbench.psk=true} both hosts join one private network (pnet adds XSalsa20 each way). */
  private static final org.oscircular.protocol.p2p.PreSharedKey PSK = Boolean.getBoolean("bench.psk")
      ? org.oscircular.protocol.p2p.PreSharedKey.generate(new SecureRandom()) : null;
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** A median round: wall-clock and CPU throughput. */
  private record Result(double mibPerSecond, double mibPerCpuSecond) {
    String vs(Result base) {
      return String.format("%8.1f MiB/s (%.2fx)   %8.1f MiB/CPU-s (%.2fx)", mibPerSecond, mibPerSecond / base.mibPerSecond,
          mibPerCpuSecond, mibPerCpuSecond / base.mibPerCpuSecond);
    }
  }

  public static void main(String[] args) throws Exception {
    System.out.printf("%d MiB per round, %d rounds, medians; ratios are to the plain TCP line of the same kind%s%n",
        BYTES >> 20, ROUNDS, PSK == null ? "" : "; libp2p hosts in a private network (pnet)");
    Result plainEcho = median(ROUNDS, () -> plainNetty(true));
    Result plainOneWay = median(ROUNDS, () -> plainNetty(false));
    try (Host server = newHost(); Host client = newHost()) {
      Multiaddr addr = server.listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).withPeerId(server.peerId());
      Connection c = client.dial(addr).get(10, TimeUnit.SECONDS);
      System.out.printf("plain Netty TCP echo:              %s%n", plainEcho.vs(plainEcho));
      System.out.printf("noise+yamux echo, 1 stream:        %s%n", median(ROUNDS, () -> p2p(c, 1, true)).vs(plainEcho));
      System.out.printf("noise+yamux echo, 4 streams:       %s%n", median(ROUNDS, () -> p2p(c, 4, true)).vs(plainEcho));
      System.out.printf("plain Netty TCP one-way:           %s%n", plainOneWay.vs(plainOneWay));
      System.out.printf("noise+yamux one-way, 1 stream:     %s%n", median(ROUNDS, () -> p2p(c, 1, false)).vs(plainOneWay));
      System.out.printf("noise+yamux one-way, 4 streams:    %s%n", median(ROUNDS, () -> p2p(c, 4, false)).vs(plainOneWay));
      double hs = median(3, () -> new Result(handshakes(client, addr), 0)).mibPerSecond();
      System.out.printf("connection setups (tcp+mss+noise+yamux), sequential: %.0f handshakes/s%n", hs);
    }
  }

  private interface Round {
    Result run() throws Exception;
  }

  /**
   * The median wall-clock rate of {@code rounds} rounds, and the CPU rate over all of them together
   * (process CPU time is counted in scheduler ticks, too coarse for one round).
   */
  private static Result median(int rounds, Round r) throws Exception {
    r.run(); // warm-up
    double[] wall = new double[rounds];
    double cpuSeconds = 0;
    for (int i = 0; i < rounds; i++) {
      Result x = r.run();
      wall[i] = x.mibPerSecond();
      cpuSeconds += x.mibPerCpuSecond() == 0 ? 0 : 1 / x.mibPerCpuSecond();
    }
    Arrays.sort(wall);
    return new Result(wall[rounds / 2], cpuSeconds == 0 ? 0 : rounds / cpuSeconds);
  }

  private static Host newHost() {
    Host h = new Host(IdentityKey.generate(new SecureRandom()), withWindow(HostConfig.defaults().withIoThreads(1)), new SecureRandom());
    h.registerHandler(Echo.PROTOCOL_ID, Echo::serve);
    h.registerHandler(SINK, P2pBench::sink);
    return h;
  }

  private static HostConfig withWindow(HostConfig c) {
    int w = Integer.getInteger("bench.window", c.yamuxReceiveWindow());
    return new HostConfig(c.maxConnections(), c.maxConnectionsPerPeer(), c.maxStreamsPerConnection(), c.idleTimeout(),
        c.handshakeTimeout(), w, c.agentVersion(), c.ioThreads()).withPsk(PSK);
  }

  /** Counts what arrives, closes its side after the peer's FIN. */
  private static void sink(P2pStream stream) {
    stream.setListener(new StreamListener() {
      @Override
      public void onData(P2pStream s, ByteBuf data) {}

      @Override
      public void onReadClosed(P2pStream s) {
        s.closeWrite();
      }
    });
  }

  private static Result p2p(Connection c, int streams, boolean echo) throws Exception {
    long per = BYTES / streams;
    long cpu0 = OS.getProcessCpuTime();
    long start = System.nanoTime();
    List<CompletableFuture<?>> fs = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      P2pStream s = c.openStream(echo ? Echo.PROTOCOL_ID : SINK).get(10, TimeUnit.SECONDS);
      fs.add(echo ? Echo.exchangeFast(s, per) : send(s, per));
    }
    for (CompletableFuture<?> f : fs) {
      f.get(120, TimeUnit.SECONDS);
    }
    return result(per * streams, System.nanoTime() - start, OS.getProcessCpuTime() - cpu0);
  }

  /** Writes {@code total} bytes (16 chunks in flight), half-closes; completes once the sink closed too. */
  private static CompletableFuture<Void> send(P2pStream stream, long total) {
    stream.setListener(new StreamListener() {
      @Override
      public void onData(P2pStream s, ByteBuf data) {}
    });
    byte[] chunk = new byte[Echo.CHUNK];
    new SplittableRandom(2).nextBytes(chunk);
    Thread.ofVirtual().start(() -> {
      try {
        Semaphore inFlight = new Semaphore(16);
        for (long sent = 0; sent < total; sent += Echo.CHUNK) {
          int n = (int) Math.min(Echo.CHUNK, total - sent);
          inFlight.acquire();
          stream.write(Unpooled.wrappedBuffer(chunk, 0, n)).whenComplete((v, t) -> inFlight.release());
        }
        stream.closeWrite();
      } catch (InterruptedException e) {
        stream.reset();
      }
    });
    return stream.closeFuture();
  }

  private static double handshakes(Host client, Multiaddr addr) throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < HANDSHAKES; i++) {
      Connection c = client.dial(addr).get(10, TimeUnit.SECONDS);
      c.close().get(10, TimeUnit.SECONDS);
    }
    return HANDSHAKES / ((System.nanoTime() - start) / 1e9);
  }

  private static Result result(long bytes, long nanos, long cpuNanos) {
    double mib = bytes / 1048576.0;
    return new Result(mib / (nanos / 1e9), cpuNanos == 0 ? Double.POSITIVE_INFINITY : mib / (cpuNanos / 1e9));
  }

  /** A plain Netty TCP echo (or sink) with backpressure, on two epoll threads. */
  private static Result plainNetty(boolean echo) throws Exception {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    try {
      AtomicLong sunk = new AtomicLong();
      CompletableFuture<Long> done = new CompletableFuture<>();
      Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  if (echo) {
                    ctx.write(msg);
                    return;
                  }
                  if (sunk.addAndGet(((ByteBuf) msg).readableBytes()) == BYTES) {
                    done.complete(System.nanoTime());
                  }
                  ((ByteBuf) msg).release();
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
      byte[] chunk = new byte[Echo.CHUNK];
      new SecureRandom().nextBytes(chunk);
      long cpu0 = OS.getProcessCpuTime();
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
                done.complete(System.nanoTime());
                ctx.close();
              }
            }
          }).connect(server.localAddress()).sync();
      long end = done.get(120, TimeUnit.SECONDS);
      long cpu = OS.getProcessCpuTime() - cpu0;
      server.close().sync();
      return result(BYTES, end - start, cpu);
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }
}
