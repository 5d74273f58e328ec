package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;
import org.oscircular.protocol.p2p.WireFormatException;
import org.oscircular.protocol.p2p.YamuxHeader;

/**
 * A yamux session (yamux/README.md) over a secured channel: parses frames, routes them to
 * {@link YamuxStream}s, answers pings, enforces flow control and stream limits. A protocol violation
 * (bad frame, window overrun, oversized frame) closes the connection with GO_AWAY and one log line.
 * All state is confined to the channel's event loop.
 */
final class YamuxSession extends ByteToMessageDecoder implements Connection {
  static final String PROTOCOL_ID = "/yamux/1.0.0";
  /** Largest DATA payload this side puts in one frame: one frame then fills one noise message. */
  static final int MAX_DATA_FRAME = NoiseFrameEncoder.MAX_PLAINTEXT - YamuxHeader.SIZE;

  private static final System.Logger LOG = System.getLogger(YamuxSession.class.getName());

  private final Host host;
  private final PeerId remotePeer;
  private final Multiaddr remoteAddress;
  private final Direction direction;
  private final IntObjectHashMap<YamuxStream> streams = new IntObjectHashMap<>();
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
  private ChannelHandlerContext ctx;
  private int nextStreamId;
  /** The DATA frame whose body is arriving, its stream (null if gone) and the bytes still to come. */
  private YamuxHeader dataHeader;
  private YamuxStream dataStream;
  private long dataRemaining;
  private boolean inReadBatch;
  private boolean flushScheduled;
  private boolean goAwaySent;
  private boolean goAwayReceived;
  private boolean needsFlush;
  private volatile int streamCount;
  private long idleSinceNanos = System.nanoTime();

  YamuxSession(Host host, PeerId remotePeer, Multiaddr remoteAddress, Direction direction) {
    this.host = host;
    this.remotePeer = remotePeer;
    this.remoteAddress = remoteAddress;
    this.direction = direction;
    this.nextStreamId = direction == Direction.OUTBOUND ? 1 : 2;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    ctx.channel().closeFuture().addListener(f -> closeFuture.complete(null));
    long idleNanos = host.config().idleTimeout().toNanos();
    ctx.executor().scheduleAtFixedRate(this::closeIfIdle, idleNanos / 4, idleNanos / 4, TimeUnit.NANOSECONDS);
  }

  @Override
  public PeerId remotePeer() {
    return remotePeer;
  }

  @Override
  public Multiaddr remoteAddress() {
    return remoteAddress;
  }

  @Override
  public Direction direction() {
    return direction;
  }

  @Override
  public int streamCount() {
    return streamCount;
  }

  @Override
  public boolean isOpen() {
    return ctx.channel().isActive();
  }

  @Override
  public CompletableFuture<Void> closeFuture() {
    return closeFuture;
  }

  @Override
  public CompletableFuture<Void> close() {
    executor().execute(() -> {
      if (!goAwaySent && ctx.channel().isActive()) {
        goAwaySent = true;
        writeFrame(YamuxHeader.TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_NORMAL);
      }
      ctx.close();
    });
    return closeFuture;
  }

  @Override
  public CompletableFuture<P2pStream> openStream(String protocol) {
    CompletableFuture<P2pStream> result = new CompletableFuture<>();
    executor().execute(() -> {
      if (!ctx.channel().isActive() || goAwaySent || goAwayReceived) {
        result.completeExceptionally(new IOException("connection to " + remotePeer + " is closing"));
        return;
      }
      if (streams.size() >= host.config().maxStreamsPerConnection()) {
        result.completeExceptionally(new IOException(
            "stream limit of " + host.config().maxStreamsPerConnection() + " reached on the connection to " + remotePeer));
        return;
      }
      int id = nextStreamId;
      nextStreamId += 2;
      YamuxStream s = new YamuxStream(this, id, true, protocol, result);
      register(s);
      writeFrame(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_SYN, id, s.flow().initialWindowGrant());
      s.startNegotiation();
      flushNow();
    });
    return result;
  }

  EventExecutor executor() {
    return ctx.executor();
  }

  Host host() {
    return host;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    inReadBatch = true;
    super.channelRead(ctx, msg);
  }

  /**
   * Parses frames. A DATA body is handed to its stream piece by piece as it arrives (retained slices
   * of the decrypted noise frames, no copy); its FIN or RST flag takes effect after the last piece.
   */
  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (ctx.channel().isActive()) {
      if (dataHeader != null) {
        int n = (int) Math.min(dataRemaining, in.readableBytes());
        if (n == 0) {
          return;
        }
        ByteBuf chunk = in.readRetainedSlice(n);
        dataRemaining -= n;
        String violation = dataChunk(dataHeader, dataStream, chunk);
        if (violation == null && dataRemaining == 0) {
          YamuxHeader h = dataHeader;
          YamuxStream s = dataStream;
          dataHeader = null;
          dataStream = null;
          endOfFrame(h, s);
        }
        if (violation != null) {
          protocolError(in, violation);
          return;
        }
        continue;
      }
      if (in.readableBytes() < YamuxHeader.SIZE) {
        return;
      }
      YamuxHeader h;
      try {
        h = YamuxHeader.read(in.nioBuffer(in.readerIndex(), YamuxHeader.SIZE));
      } catch (WireFormatException e) {
        protocolError(in, e.getMessage());
        return;
      }
      in.skipBytes(YamuxHeader.SIZE);
      if (h.type() == YamuxHeader.TYPE_DATA && h.length() > host.config().yamuxReceiveWindow()) {
        protocolError(in, "DATA frame of " + h.length() + " bytes exceeds the receive window of "
            + host.config().yamuxReceiveWindow() + " (stream " + h.streamIdUnsigned() + ")");
        return;
      }
      String violation = handleFrame(h);
      if (violation != null) {
        protocolError(in, violation);
        return;
      }
    }
    in.skipBytes(in.readableBytes());
  }

  /** Handles a frame header. Returns a violation message or null. */
  private String handleFrame(YamuxHeader h) {
    switch (h.type()) {
      case YamuxHeader.TYPE_PING -> {
        if (h.has(YamuxHeader.FLAG_SYN)) {
          writeFrame(YamuxHeader.TYPE_PING, YamuxHeader.FLAG_ACK, 0, h.length());
        }
        return null;
      }
      case YamuxHeader.TYPE_GO_AWAY -> {
        goAwayReceived = true;
        LOG.log(Level.DEBUG, "peer {0} sent GO_AWAY code {1}", remotePeer, h.length());
        if (streams.isEmpty()) {
          ctx.close();
        }
        return null;
      }
      default -> {
        return handleStreamFrame(h);
      }
    }
  }

  private String handleStreamFrame(YamuxHeader h) {
    int id = h.streamId();
    if (id == 0) {
      return "stream frame " + h + " on the session id 0";
    }
    YamuxStream s = streams.get(id);
    if (h.has(YamuxHeader.FLAG_SYN)) {
      if (s != null) {
        return "SYN for stream " + h.streamIdUnsigned() + " which is already open";
      }
      boolean remoteIsClient = direction == Direction.INBOUND;
      if ((id & 1) != (remoteIsClient ? 1 : 0)) {
        return "peer opened stream " + h.streamIdUnsigned() + " with the wrong parity";
      }
      if (goAwaySent || streams.size() >= host.config().maxStreamsPerConnection()) {
        LOG.log(Level.DEBUG, "refusing stream {0} from {1}: stream limit", h.streamIdUnsigned(), remotePeer);
        writeFrame(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0);
        s = null; // its body, if any, is skipped
      } else {
        s = new YamuxStream(this, id, false, null, null);
        register(s);
        writeFrame(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_ACK, id, s.flow().initialWindowGrant());
        s.startNegotiation();
      }
    }
    if (h.type() == YamuxHeader.TYPE_DATA && h.length() > 0) {
      if (s != null && h.length() > s.flow().receiveWindow()) {
        return "flow-control violation: " + h.length() + " bytes on stream " + h.streamIdUnsigned()
            + " with a receive window of " + s.flow().receiveWindow();
      }
      dataHeader = h;
      dataStream = s;
      dataRemaining = h.length();
      return null;
    }
    if (s == null) {
      return null; // a frame for a stream that is already gone
    }
    if (h.type() == YamuxHeader.TYPE_WINDOW_UPDATE && h.length() > 0) {
      if (!s.flow().onWindowUpdate(h.length())) {
        return "window update overflows the send window of stream " + h.streamIdUnsigned();
      }
      s.flushPending();
    }
    endOfFrame(h, s);
    return null;
  }

  /** A piece of a DATA body for {@code s} (null: the stream is gone; skip it). Takes ownership. */
  private String dataChunk(YamuxHeader h, YamuxStream s, ByteBuf chunk) {
    if (s == null) {
      chunk.release();
      return null;
    }
    if (!s.flow().onReceived(chunk.readableBytes())) {
      long window = s.flow().receiveWindow();
      chunk.release();
      return "flow-control violation: " + h.length() + " bytes on stream " + h.streamIdUnsigned()
          + " with a receive window of " + window;
    }
    s.onData(chunk);
    return null;
  }

  private static void endOfFrame(YamuxHeader h, YamuxStream s) {
    if (s == null) {
      return;
    }
    if (h.has(YamuxHeader.FLAG_FIN)) {
      s.onRemoteFin();
    }
    if (h.has(YamuxHeader.FLAG_RST)) {
      s.onRemoteReset();
    }
  }

  private void protocolError(ByteBuf in, String reason) {
    in.skipBytes(in.readableBytes());
    LOG.log(Level.WARNING, "closing connection to {0} at {1}: yamux protocol error: {2}", remotePeer, remoteAddress, reason);
    if (!goAwaySent) {
      goAwaySent = true;
      writeFrame(YamuxHeader.TYPE_GO_AWAY, 0, 0, YamuxHeader.GO_AWAY_PROTOCOL_ERROR);
    }
    ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(f -> ctx.close());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    super.channelReadComplete(ctx);
    inReadBatch = false;
    if (needsFlush) {
      flushNow();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    List<YamuxStream> open = new ArrayList<>(streams.values());
    streams.clear();
    streamCount = 0;
    ClosedChannelException cause = new ClosedChannelException();
    for (YamuxStream s : open) {
      s.onConnectionClosed(cause);
    }
    closeFuture.complete(null);
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A peer that goes away (reset, broken pipe) is routine; anything else is worth a warning.
    Level level = cause instanceof java.io.IOException ? Level.DEBUG : Level.WARNING;
    LOG.log(level, "closing connection to {0} at {1}: {2}", remotePeer, remoteAddress, rootMessage(cause));
    ctx.close();
  }

  static String rootMessage(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  private void closeIfIdle() {
    if (streams.isEmpty()
        && System.nanoTime() - idleSinceNanos > host.config().idleTimeout().toNanos()
        && ctx.channel().isActive()) {
      LOG.log(Level.DEBUG, "closing idle connection to {0}", remotePeer);
      close();
    }
  }

  private void register(YamuxStream s) {
    streams.put(s.id(), s);
    streamCount = streams.size();
  }

  void unregister(YamuxStream s) {
    if (streams.remove(s.id()) != null) {
      streamCount = streams.size();
      if (streams.isEmpty()) {
        idleSinceNanos = System.nanoTime();
        if (goAwayReceived) {
          ctx.close();
        }
      }
    }
  }

  void writeFrame(int type, int flags, int streamId, long length) {
    ByteBuf b = ctx.alloc().heapBuffer(YamuxHeader.SIZE);
    b.writeByte(0).writeByte(type).writeShort(flags).writeInt(streamId).writeInt((int) length);
    ctx.write(b, ctx.voidPromise());
    needsFlush = true;
  }

  void writeData(int streamId, int flags, ByteBuf data) {
    ByteBuf b = ctx.alloc().heapBuffer(YamuxHeader.SIZE);
    b.writeByte(0).writeByte(YamuxHeader.TYPE_DATA).writeShort(flags).writeInt(streamId).writeInt(data.readableBytes());
    ctx.write(b, ctx.voidPromise());
    ctx.write(data, ctx.voidPromise());
    needsFlush = true;
  }

  void flushNow() {
    needsFlush = false;
    ctx.flush();
  }

  /**
   * Flushes what was written, soon: at the end of the current read batch, or else in a task queued
   * behind the tasks already waiting on the event loop, so that writes made in one go (several
   * streams, many small writes) leave in full noise frames and one system call.
   */
  void requestFlush() {
    if (inReadBatch || flushScheduled) {
      return;
    }
    flushScheduled = true;
    ctx.executor().execute(() -> {
      flushScheduled = false;
      if (needsFlush) {
        flushNow();
      }
    });
  }

  static ByteBuffer nio(ByteBuf b) {
    return b.nioBuffer();
  }

  private static void release(ByteBuf b) {
    if (b != null) {
      b.release();
    }
  }

  @Override
  public String toString() {
    return "Connection[" + remotePeer + " " + remoteAddress + " " + direction + "]";
  }
}
