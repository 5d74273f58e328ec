package org.oscircular.node.nbd;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.oscircular.node.net.SocketErrors;

/**
 * A read-only NBD server (fixed newstyle) for a set of {@link NbdExports}.
 *
 * <p>Reads run on the injected {@code reads} executor (they may block on the network); the
 * server owns neither the exports nor that executor.
 */
public final class NbdServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;

  private NbdServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  /**
   * Binds {@code address} (port 0 picks a free port) and starts serving.
   *
   * @param ioThreads event-loop threads; 1 or 2 is plenty, they never block
   */
  public static NbdServer start(InetSocketAddress address, NbdExports exports,
      ExecutorService reads, int ioThreads) throws IOException {
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(ioThreads,
        epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Class<? extends ServerChannel> type =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    try {
      Channel ch = new ServerBootstrap()
          .group(group)
          .channel(type)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
          .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
              new WriteBufferWaterMark(32 * 1024 * 1024, 64 * 1024 * 1024))
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel c) {
              c.pipeline().addLast(new NbdConnection(exports, reads));
            }
          })
          .bind(address)
          .syncUninterruptibly()
          .channel();
      return new NbdServer(group, ch);
    } catch (Exception e) { // Netty's bind failure is a checked IOException thrown without a declaration
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw SocketErrors.listenFailure("NBD", address, e);
    }
  }

  /** The bound address (with the real port when 0 was asked for). */
  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** Blocks until the server is closed. */
  public void awaitClose() throws InterruptedException {
    channel.closeFuture().await();
  }

  /** Stops listening and drops every connection. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
