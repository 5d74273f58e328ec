package org.oscircular.node.boot;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.oscircular.node.net.SocketErrors;

/**
 * The node's network-boot endpoint: {@code GET /boot/menu.ipxe} (the iPXE menu, optionally
 * {@code ?default=IMAGE:VERSION}), {@code GET /boot/IMAGE/VERSION/boot.ipxe} (boot that version,
 * no menu) and {@code GET /boot/IMAGE/VERSION/kernel|initrd}. Kernel and
 * initrd are read whole through the verifying block cache before the response starts: a block
 * that fails gives {@code 502} with the reason, never partial or unverified bytes.
 *
 * <p>The menu names the node by the {@code Host} the machine used (what it can reach), and the
 * NBD port this node serves on.
 */
public final class BootHttpServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(BootHttpServer.class.getName());
  private static final Pattern ATTACHMENT =
      Pattern.compile("/boot/([A-Za-z0-9][A-Za-z0-9._+-]{0,63})/([A-Za-z0-9][A-Za-z0-9._+-]{0,63})"
          + "/(kernel|initrd|boot\\.ipxe)");
  static final Duration MENU_TIMEOUT = Duration.ofSeconds(5);

  private final EventLoopGroup group;
  private final Channel channel;

  private BootHttpServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  /**
   * Starts serving on {@code address}; the menu points machines at NBD port {@code nbdPort} of
   * the host they reached this server on. Blocking work runs on {@code work}.
   */
  public static BootHttpServer start(InetSocketAddress address, BootImages images, int nbdPort,
      ExecutorService work) throws IOException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      Channel ch = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel c) {
              c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 * 1024),
                  new Handler(images, nbdPort, work));
            }
          })
          .bind(address).syncUninterruptibly().channel();
      return new BootHttpServer(group, ch);
    } catch (Exception e) { // Netty's bind failure is a checked IOException thrown without a declaration
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw SocketErrors.listenFailure("HTTP", address, e);
    }
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** The host part of a Host header ("10.0.2.2:8080" → "10.0.2.2", "[::1]:80" → "::1"). */
  static String hostOf(String hostHeader) {
    if (hostHeader.startsWith("[")) {
      int end = hostHeader.indexOf(']');
      return end > 0 ? hostHeader.substring(1, end) : hostHeader;
    }
    int colon = hostHeader.indexOf(':');
    return colon >= 0 ? hostHeader.substring(0, colon) : hostHeader;
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final BootImages images;
    private final int nbdPort;
    private final ExecutorService work;

    Handler(BootImages images, int nbdPort, ExecutorService work) {
      this.images = images;
      this.nbdPort = nbdPort;
      this.work = work;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (!req.decoderResult().isSuccess()) {
        send(ctx, text(HttpResponseStatus.BAD_REQUEST, "malformed request\n"), false);
        return;
      }
      if (!HttpMethod.GET.equals(req.method()) && !HttpMethod.HEAD.equals(req.method())) {
        send(ctx, text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET\n"), keepAlive);
        return;
      }
      boolean head = HttpMethod.HEAD.equals(req.method());
      QueryStringDecoder uri = new QueryStringDecoder(req.uri());
      String host = req.headers().get(HttpHeaderNames.HOST);
      if (host == null || host.isBlank()) {
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        host = local.getAddress().getHostAddress() + ":" + local.getPort();
      }
      String httpBase = "http://" + host;
      String nbdHost = hostOf(host);
      String path = uri.path();
      Matcher m = ATTACHMENT.matcher(path);
      Runnable job;
      if (path.equals("/boot/menu.ipxe")) {
        Optional<String> preselect = Optional.ofNullable(uri.parameters().get("default"))
            .flatMap(l -> l.stream().findFirst());
        job = () -> {
          String menu = BootMenu.render(images.versions(),
              new BootMenu.Node(httpBase, nbdHost, nbdPort), preselect, MENU_TIMEOUT);
          send(ctx, body(HttpResponseStatus.OK, menu.getBytes(StandardCharsets.UTF_8),
              "text/plain; charset=utf-8", head), keepAlive);
        };
      } else if (m.matches()) {
        String image = m.group(1);
        String version = m.group(2);
        String name = m.group(3);
        job = () -> {
          try {
            if (name.equals("boot.ipxe")) {
              BootVersion v = images.versions().stream()
                  .filter(b -> b.image().equals(image) && b.version().equals(version)).findFirst()
                  .orElseThrow(() -> new BootImages.NotFound(image + ":" + version
                      + " is not a bootable version (no such version, retired, or no kernel)"));
              String script = BootMenu.renderOne(v, new BootMenu.Node(httpBase, nbdHost, nbdPort));
              send(ctx, body(HttpResponseStatus.OK, script.getBytes(StandardCharsets.UTF_8),
                  "text/plain; charset=utf-8", head), keepAlive);
              return;
            }
            byte[] bytes = images.attachment(image, version, name);
            send(ctx, body(HttpResponseStatus.OK, bytes, "application/octet-stream", head),
                keepAlive);
          } catch (BootImages.NotFound e) {
            send(ctx, text(HttpResponseStatus.NOT_FOUND, e.getMessage() + "\n"), keepAlive);
          } catch (IOException e) {
            LOG.log(Level.WARNING, "boot: not serving {0}: {1}", path, e.getMessage());
            send(ctx, text(HttpResponseStatus.BAD_GATEWAY, e.getMessage() + "\n"), keepAlive);
          }
        };
      } else {
        send(ctx, text(HttpResponseStatus.NOT_FOUND, "no such path: " + path + "\n"), keepAlive);
        return;
      }
      try {
        work.execute(job);
      } catch (RejectedExecutionException e) {
        send(ctx, text(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down\n"), false);
      }
    }

    private static FullHttpResponse body(HttpResponseStatus status, byte[] bytes, String type,
        boolean head) {
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
      r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
      return r;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String message) {
      return body(status, message.getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8",
          false);
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
      if (keepAlive) {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        ctx.writeAndFlush(r);
      } else {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.log(Level.INFO, "boot http: closing {0}: {1}", ctx.channel().remoteAddress(),
          cause.toString());
      ctx.close();
    }
  }
}
