package org.oscircular.node.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.oscircular.node.cache.LentBytes;

/**
 * One client connection: negotiates an export, then serves its requests. Negotiation runs on
 * the event loop (the export registry answers from memory), except that an NBD_OPT_INFO / NBD_OPT_GO
 * whose export does not know its preferred block size yet (an image version before its table is loaded)
 * has it loaded on {@code reads}; the connection decodes nothing more until that option is answered, so
 * replies keep the order of the options. A read whose bytes the export has at
 * hand as plaintext ({@link NbdExport#readNow}: the decoded tier, decoded memory) is served right
 * there; every other read runs on {@code reads}, so a read that waits on the network, the block
 * cache or a decoder never stalls other clients. Replies go out as soon as their
 * read completes, in any order, matched to requests by cookie.
 *
 * <p>A protocol violation closes this connection only. A failed read answers that request with
 * NBD_EIO and the connection carries on.
 */
final class NbdConnection extends ByteToMessageDecoder {
  private static final System.Logger LOG = System.getLogger(NbdConnection.class.getName());

  /** Pause reading requests while this many are being served... */
  static final int MAX_IN_FLIGHT = 128;

  /** ...or while their payloads add up to this many bytes. */
  static final long MAX_IN_FLIGHT_BYTES = 128L * 1024 * 1024;

  private static final int CACHE_CHUNK = 1024 * 1024;

  private final NbdExports exports;
  private final Executor reads;
  private final NbdFrameDecoder frames = new NbdFrameDecoder();
  private ReplyBuffers buffers;

  private boolean noZeroes;
  private boolean structured;
  private NbdExport export;
  private int transmissionFlags;
  /** The export whose base:allocation the last NBD_OPT_SET_META_CONTEXT selected, or null. */
  private String allocationFor;
  /** base:allocation is selected for the export in transmission: NBD_CMD_BLOCK_STATUS works. */
  private boolean allocation;
  private int inFlight;
  private long inFlightBytes;
  private boolean stopped; // protocol error, abort or disconnect: decode nothing more
  /** An NBD_OPT_INFO / NBD_OPT_GO waits for its export's preferred block size: decode nothing more yet. */
  private boolean waiting;
  /** The export of the last NBD_OPT_INFO / NBD_OPT_GO answered and the preferred block size it was told. */
  private NbdExport told;
  private int toldBlockSize;

  NbdConnection(NbdExports exports, Executor reads) {
    this.exports = exports;
    this.reads = reads;
  }

  /** Reply buffers kept per connection for reuse. */
  static final long KEEP_REPLY_BYTES = 32L * 1024 * 1024;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    buffers = new ReplyBuffers(ctx.alloc(), KEEP_REPLY_BYTES);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    buffers.close();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    ctx.writeAndFlush(NbdReplies.greeting(ctx.alloc()));
    super.channelActive(ctx);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (stopped) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (waiting) {
      return; // the bytes stay in the decoder's buffer until the waiting option is answered
    }
    try {
      ClientMessage m;
      while (!stopped && !waiting && (m = frames.decode(in)) != null) {
        switch (m) {
          case ClientMessage.Flags f ->
              noZeroes = (f.flags() & NbdWire.CLIENT_FLAG_NO_ZEROES) != 0;
          case ClientMessage.Option o -> onOption(ctx, OptionRequest.parse(o));
          case ClientMessage.Request r -> onRequest(ctx, r);
        }
      }
    } catch (NbdProtocolException e) {
      LOG.log(Level.INFO, "nbd: closing {0}: {1}", ctx.channel().remoteAddress(), e.getMessage());
      stop(ctx);
    }
    if (stopped) {
      in.skipBytes(in.readableBytes());
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    unflushed = 0;
    ctx.flush();
    if (ctx.channel().config().isAutoRead()) {
      super.channelReadComplete(ctx);
    } else {
      // Paused on purpose (too busy, or an option waits for a block size); maybeResume reads again.
      // ByteToMessageDecoder would ask for another read here, since this decoder passes no message on.
      discardSomeReadBytes();
      ctx.fireChannelReadComplete();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.INFO, "nbd: closing {0}: {1}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  // ---- option haggling -------------------------------------------------------------------

  private void onOption(ChannelHandlerContext ctx, OptionRequest opt) {
    ByteBufAllocator alloc = ctx.alloc();
    switch (opt) {
      case OptionRequest.ExportName(String name) -> {
        var found = exports.find(name);
        if (found.isEmpty()) {
          // NBD_OPT_EXPORT_NAME has no error reply: the only answer is to hang up.
          LOG.log(Level.INFO, "nbd: {0} asked for unknown export \"{1}\"",
              ctx.channel().remoteAddress(), name);
          stop(ctx);
          return;
        }
        begin(found.get());
        ctx.write(NbdReplies.exportName(alloc, export.size(), transmissionFlags, noZeroes));
      }
      case OptionRequest.Abort() -> {
        stopped = true;
        ctx.writeAndFlush(NbdReplies.optionAck(alloc, NbdWire.OPT_ABORT))
            .addListener(ChannelFutureListener.CLOSE);
      }
      case OptionRequest.ListExports() -> {
        for (NbdExport e : exports.list()) {
          ctx.write(NbdReplies.server(alloc, NbdWire.OPT_LIST, e.name(), e.description()));
        }
        ctx.write(NbdReplies.optionAck(alloc, NbdWire.OPT_LIST));
      }
      case OptionRequest.Info info -> onInfo(ctx, info);
      case OptionRequest.MetaContext meta -> onMetaContext(ctx, meta);
      case OptionRequest.Unsupported(int code) when code == NbdWire.OPT_STRUCTURED_REPLY -> {
        structured = true;
        ctx.write(NbdReplies.optionAck(alloc, code));
      }
      case OptionRequest.Unsupported(int code) ->
          ctx.write(NbdReplies.optionError(alloc, code, NbdWire.REP_ERR_UNSUP,
              "option " + code + " is not supported by this server"));
      case OptionRequest.Invalid(int code, String reason) -> {
        if (code == NbdWire.OPT_EXPORT_NAME) {
          stop(ctx);
          return;
        }
        ctx.write(NbdReplies.optionError(alloc, code, NbdWire.REP_ERR_INVALID, reason));
      }
    }
  }

  private void onInfo(ChannelHandlerContext ctx, OptionRequest.Info info) {
    int code = info.go() ? NbdWire.OPT_GO : NbdWire.OPT_INFO;
    var found = exports.find(info.name());
    if (found.isEmpty()) {
      ctx.write(NbdReplies.optionError(ctx.alloc(), code, NbdWire.REP_ERR_UNKNOWN,
          "no export named \"" + info.name() + "\" (NBD_OPT_LIST shows them)"));
      return;
    }
    NbdExport e = found.get();
    // A GO after an INFO of the same export is told what the INFO was, even if that was the fallback:
    // the document wants the same information, and a table that could not be had is not waited for twice.
    int now = e == told ? toldBlockSize : e.preferredBlockSizeNow();
    if (now != 0) {
      answerInfo(ctx, info, e, now);
    } else {
      loadBlockSize(ctx, info, e);
    }
  }

  /**
   * Has {@code e}'s preferred block size loaded on the read pool (it may fetch an image version's
   * table), then answers {@code info} on the event loop and decodes what the client sent meanwhile.
   * If it cannot be loaded the option is still accepted, with the 4096 fallback: the export exists and
   * its size is known, and reads then fail or succeed one by one (NBD_EIO while the table cannot be had).
   */
  private void loadBlockSize(ChannelHandlerContext ctx, OptionRequest.Info info, NbdExport e) {
    waiting = true;
    ctx.channel().config().setAutoRead(false);
    try {
      reads.execute(() -> {
        int size;
        try {
          size = e.preferredBlockSize();
        } catch (IOException | RuntimeException ex) {
          LOG.log(Level.WARNING, "nbd: preferred block size of export {0} unknown, telling {1} {2}: {3}",
              e.name(), ctx.channel().remoteAddress(), Integer.toString(FALLBACK_BLOCK), ex.getMessage());
          size = FALLBACK_BLOCK;
        }
        int loaded = size;
        try {
          ctx.executor().execute(() -> answerLoaded(ctx, info, e, loaded));
        } catch (RejectedExecutionException closing) {
          // the server is closing: the connection goes with it
        }
      });
    } catch (RejectedExecutionException ex) {
      waiting = false;
      maybeResume(ctx);
      ctx.write(NbdReplies.optionError(ctx.alloc(), info.go() ? NbdWire.OPT_GO : NbdWire.OPT_INFO,
          NbdWire.REP_ERR_SHUTDOWN, "server is shutting down"));
    }
  }

  /** On the event loop, once the block size {@link #loadBlockSize} waited for is known. */
  private void answerLoaded(ChannelHandlerContext ctx, OptionRequest.Info info, NbdExport e, int size) {
    waiting = false;
    if (stopped || ctx.isRemoved() || !ctx.channel().isActive()) {
      return;
    }
    answerInfo(ctx, info, e, size);
    try {
      callDecode(ctx, internalBuffer(), new ArrayList<>()); // what arrived while waiting
    } catch (RuntimeException ex) {
      exceptionCaught(ctx, ex);
      return;
    }
    unflushed = 0;
    ctx.flush();
    maybeResume(ctx);
  }

  private void answerInfo(ChannelHandlerContext ctx, OptionRequest.Info info, NbdExport e, int blockSize) {
    ByteBufAllocator alloc = ctx.alloc();
    int code = info.go() ? NbdWire.OPT_GO : NbdWire.OPT_INFO;
    int preferred = preferred(blockSize);
    told = e;
    toldBlockSize = preferred;
    int flags = flagsFor();
    ctx.write(NbdReplies.infoExport(alloc, code, e.size(), flags));
    // Our constraints are the protocol defaults widened (any alignment), so we send them even
    // when not asked: a client that ignores them loses nothing.
    ctx.write(NbdReplies.infoBlockSize(alloc, code, NbdWire.MIN_BLOCK, preferred, NbdWire.MAX_PAYLOAD));
    if (info.asked(NbdWire.INFO_NAME)) {
      ctx.write(NbdReplies.infoString(alloc, code, NbdWire.INFO_NAME, e.name()));
    }
    if (info.asked(NbdWire.INFO_DESCRIPTION) && !e.description().isEmpty()) {
      ctx.write(NbdReplies.infoString(alloc, code, NbdWire.INFO_DESCRIPTION, e.description()));
    }
    ctx.write(NbdReplies.optionAck(alloc, code));
    if (info.go()) {
      begin(e);
    }
  }

  /** NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT; the only context is base:allocation. */
  private void onMetaContext(ChannelHandlerContext ctx, OptionRequest.MetaContext meta) {
    ByteBufAllocator alloc = ctx.alloc();
    int code = meta.set() ? NbdWire.OPT_SET_META_CONTEXT : NbdWire.OPT_LIST_META_CONTEXT;
    if (meta.set()) {
      allocationFor = null; // SET replaces the selection, even when it fails
      if (!structured) {
        ctx.write(NbdReplies.optionError(alloc, code, NbdWire.REP_ERR_INVALID,
            "NBD_OPT_SET_META_CONTEXT needs NBD_OPT_STRUCTURED_REPLY first"));
        return;
      }
    }
    if (exports.find(meta.name()).isEmpty()) {
      ctx.write(NbdReplies.optionError(alloc, code, NbdWire.REP_ERR_UNKNOWN,
          "no export named \"" + meta.name() + "\" (NBD_OPT_LIST shows them)"));
      return;
    }
    if (meta.matchesAllocation()) {
      // a listed context's id is reserved and sent as 0
      ctx.write(NbdReplies.metaContext(alloc, code, meta.set() ? NbdWire.BASE_ALLOCATION_ID : 0,
          NbdWire.BASE_ALLOCATION));
      if (meta.set()) {
        allocationFor = meta.name();
      }
    }
    ctx.write(NbdReplies.optionAck(alloc, code));
  }

  /** Advertised when an export's preferred block size is unknown or not a valid one. */
  static final int FALLBACK_BLOCK = 4096;

  private static int preferred(int p) {
    if (p < 512 || p > NbdWire.MAX_PAYLOAD || Integer.bitCount(p) != 1) {
      return FALLBACK_BLOCK;
    }
    return p;
  }

  private int flagsFor() {
    int flags = NbdWire.TFLAG_HAS_FLAGS | NbdWire.TFLAG_READ_ONLY | NbdWire.TFLAG_CAN_MULTI_CONN
        | NbdWire.TFLAG_SEND_CACHE;
    if (structured) {
      flags |= NbdWire.TFLAG_SEND_DF; // a read is always answered with one content chunk
    }
    return flags;
  }

  private void begin(NbdExport e) {
    export = e;
    allocation = e.name().equals(allocationFor);
    transmissionFlags = flagsFor();
    frames.enterTransmission();
  }

  // ---- transmission ----------------------------------------------------------------------

  private void onRequest(ChannelHandlerContext ctx, ClientMessage.Request r) {
    switch (r.type()) {
      case NbdWire.CMD_READ -> {
        int allowed = structured ? NbdWire.CMD_FLAG_DF : 0;
        if ((r.flags() & ~allowed) != 0) {
          fail(ctx, r, NbdWire.EINVAL, "flags 0x" + Integer.toHexString(r.flags())
              + " are not valid for a read");
        } else if (r.length() > NbdWire.MAX_PAYLOAD) {
          fail(ctx, r, NbdWire.EINVAL, "read of " + r.length() + " bytes exceeds the maximum "
              + NbdWire.MAX_PAYLOAD);
        } else if (!inRange(r)) {
          fail(ctx, r, NbdWire.EINVAL, outOfRange(r));
        } else {
          boolean now = r.length() <= MAX_READ_NOW && ctx.channel().isWritable();
          if (now && sendViews(ctx, r)) {
            return;
          }
          int header = structured ? NbdReplies.STRUCTURED_HEADER + 8 : NbdReplies.SIMPLE_HEADER;
          ByteBuf reply = buffers.take(header + (int) r.length());
          if (now && readNow(ctx, r, reply)) {
            return;
          }
          if (!submit(ctx, r, r.length(), bytes -> read(ctx, r, reply, bytes))) {
            buffers.give(reply);
          }
        }
      }
      case NbdWire.CMD_CACHE -> {
        if (!inRange(r)) {
          fail(ctx, r, NbdWire.EINVAL, outOfRange(r));
        } else {
          submit(ctx, r, Math.min(r.length(), CACHE_CHUNK), bytes -> prefetch(ctx, r, bytes));
        }
      }
      case NbdWire.CMD_WRITE, NbdWire.CMD_TRIM, NbdWire.CMD_WRITE_ZEROES ->
          fail(ctx, r, NbdWire.EPERM, "export " + export.name() + " is read-only");
      case NbdWire.CMD_FLUSH -> ctx.write(ok(ctx.alloc(), r.cookie()));
      case NbdWire.CMD_DISC -> {
        stopped = true;
        closeWhenIdle(ctx);
      }
      case NbdWire.CMD_BLOCK_STATUS -> {
        if (!allocation) {
          fail(ctx, r, NbdWire.EINVAL, "no metadata context was negotiated");
        } else if ((r.flags() & ~NbdWire.CMD_FLAG_REQ_ONE) != 0) {
          fail(ctx, r, NbdWire.EINVAL, "flags 0x" + Integer.toHexString(r.flags())
              + " are not valid for a block status request");
        } else if (r.length() == 0) {
          fail(ctx, r, NbdWire.EINVAL, "block status of 0 bytes");
        } else if (!inRange(r)) {
          fail(ctx, r, NbdWire.EINVAL, outOfRange(r));
        } else {
          blockStatus(ctx, r);
        }
      }
      default -> fail(ctx, r, NbdWire.EINVAL, "unknown command " + r.type());
    }
  }

  private boolean inRange(ClientMessage.Request r) {
    long size = export.size();
    // offset is unsigned: a "negative" long lies beyond any export
    return r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
  }

  private static String outOfRange(ClientMessage.Request r) {
    return "range " + Long.toUnsignedString(r.offset()) + "+" + r.length()
        + " lies beyond the end of the export";
  }

  private ByteBuf ok(ByteBufAllocator alloc, long cookie) {
    return structured ? NbdReplies.structuredDone(alloc, cookie)
        : NbdReplies.simple(alloc, cookie, 0);
  }

  private void fail(ChannelHandlerContext ctx, ClientMessage.Request r, int error, String why) {
    ctx.write(error(ctx.alloc(), r.cookie(), error, why));
  }

  private ByteBuf error(ByteBufAllocator alloc, long cookie, int error, String why) {
    return structured ? NbdReplies.structuredError(alloc, cookie, error, why)
        : NbdReplies.simple(alloc, cookie, error);
  }

  /**
   * A finished request: {@code message} to write, then {@code reuse} (if not null) goes back to
   * the reply buffers once written.
   */
  private record Reply(ByteBuf message, ByteBuf reuse, long bytes) {}

  /** Replies finished by worker threads, written by the event loop in batches (one flush each). */
  private final Queue<Reply> finished = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();

  /**
   * Runs {@code work} off the event loop; pauses reading from the client when too busy. The
   * request counts as in flight until its reply is written.
   */
  private boolean submit(ChannelHandlerContext ctx, ClientMessage.Request r, long bytes,
      Function<Long, Reply> work) {
    inFlight++;
    inFlightBytes += bytes;
    if (busy(ctx)) {
      ctx.channel().config().setAutoRead(false);
    }
    try {
      reads.execute(() -> {
        Reply reply;
        try {
          reply = work.apply(bytes);
        } catch (Throwable t) {
          ctx.executor().execute(() -> done(ctx, bytes));
          throw t;
        }
        finished.add(reply);
        if (drainScheduled.compareAndSet(false, true)) {
          ctx.executor().execute(() -> drain(ctx));
        }
      });
    } catch (RejectedExecutionException e) {
      inFlight--;
      inFlightBytes -= bytes;
      fail(ctx, r, NbdWire.ESHUTDOWN, "server is shutting down");
      return false;
    }
    return true;
  }

  /** On the event loop: writes every finished reply, then flushes once. */
  private void drain(ChannelHandlerContext ctx) {
    drainScheduled.set(false);
    Reply r;
    while ((r = finished.poll()) != null) {
      Reply reply = r;
      ctx.write(reply.message()).addListener(f -> {
        if (reply.reuse() != null) {
          buffers.give(reply.reuse());
        }
        done(ctx, reply.bytes());
      });
    }
    ctx.flush();
  }

  private void done(ChannelHandlerContext ctx, long bytes) {
    inFlight--;
    inFlightBytes -= bytes;
    if (stopped) {
      closeWhenIdle(ctx);
    } else {
      maybeResume(ctx);
    }
  }

  /** Too much work queued, or a client that does not read its replies: stop reading requests. */
  private boolean busy(ChannelHandlerContext ctx) {
    return inFlight >= MAX_IN_FLIGHT || inFlightBytes >= MAX_IN_FLIGHT_BYTES
        || !ctx.channel().isWritable();
  }

  private void maybeResume(ChannelHandlerContext ctx) {
    if (!stopped && !waiting && !ctx.channel().config().isAutoRead() && !busy(ctx)) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      maybeResume(ctx);
    } else if (frames.phase() == NbdFrameDecoder.Phase.TRANSMISSION) {
      ctx.channel().config().setAutoRead(false);
    }
    super.channelWritabilityChanged(ctx);
  }

  private void closeWhenIdle(ChannelHandlerContext ctx) {
    if (inFlight == 0) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER)
          .addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void stop(ChannelHandlerContext ctx) {
    stopped = true;
    ctx.close();
  }

  /**
   * On the event loop: serves a read whose bytes the export has at hand (see
   * {@link NbdExport#readNow}) straight into {@code reply} and writes it, with no hand-off to a worker
   * and back. Returns false, {@code reply} still empty, when the read must go to a worker. The
   * write is flushed with the others at the end of the batch of requests the client sent, or
   * once {@link #FLUSH_BYTES} have piled up, so a client that keeps many reads in flight gets
   * replies while the rest of its batch is read.
   */
  private boolean readNow(ChannelHandlerContext ctx, ClientMessage.Request r, ByteBuf reply) {
    int length = (int) r.length();
    writeReadHeader(reply, r, length);
    int header = reply.writerIndex();
    ByteBuffer dst = reply.nioBuffer(header, length);
    boolean done;
    try {
      done = export.readNow(r.offset(), dst) && !dst.hasRemaining();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "nbd: read of {0} bytes at offset {1} of export {2} on the event loop"
          + " failed, retried on a worker: {3}", length, Long.toString(r.offset()), export.name(), e.toString());
      done = false;
    }
    if (!done) {
      reply.clear();
      return false;
    }
    reply.writerIndex(header + length);
    reply.retain(); // the channel releases one reference after writing; we keep the buffer
    ctx.write(reply).addListener(f -> buffers.give(reply));
    unflushed += reply.readableBytes();
    if (unflushed >= FLUSH_BYTES) {
      unflushed = 0;
      ctx.flush();
    }
    return true;
  }

  /**
   * On the event loop: answers a read with the export's own verified bytes ({@link NbdExport#viewNow}:
   * zero memory, the decoded tier's mapped pages) behind a small header, without copying them into a
   * reply buffer; the socket write is the only copy. Returns false, having written nothing, when the
   * export cannot lend them. Flushed like {@link #readNow}'s replies.
   */
  private boolean sendViews(ChannelHandlerContext ctx, ClientMessage.Request r) {
    int length = (int) r.length();
    LentBytes lent;
    try {
      lent = export.viewNow(r.offset(), length);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "nbd: read of {0} bytes at offset {1} of export {2} from mapped memory"
          + " failed, retried: {3}", length, Long.toString(r.offset()), export.name(), e.toString());
      lent = null;
    }
    if (lent == null) {
      return false;
    }
    ByteBuf header = ctx.alloc().directBuffer(NbdReplies.STRUCTURED_HEADER + 8);
    writeReadHeader(header, r, length);
    unflushed += header.readableBytes() + length;
    ctx.write(header, ctx.voidPromise());
    ByteBuffer[] views = lent.views();
    if (views.length == 0) {
      lent.giveBack().run();
    } else {
      for (int i = 0; i < views.length - 1; i++) {
        ctx.write(Unpooled.wrappedBuffer(views[i]), ctx.voidPromise());
      }
      // Written in order: once the last piece is sent (or the write failed, which fails all before
      // it first), the socket holds none of the views any more.
      LentBytes held = lent;
      ctx.write(Unpooled.wrappedBuffer(views[views.length - 1])).addListener(f -> held.giveBack().run());
    }
    if (unflushed >= FLUSH_BYTES) {
      unflushed = 0;
      ctx.flush();
    }
    return true;
  }

  /** Reads served on the event loop may be at most this long (a few page-cache reads). */
  static final int MAX_READ_NOW = 4 * 1024 * 1024;

  /** Flush replies written on the event loop once this many bytes are waiting. */
  static final int FLUSH_BYTES = 1024 * 1024;

  /** Bytes written on the event loop since the last flush. */
  private long unflushed;

  private void writeReadHeader(ByteBuf reply, ClientMessage.Request r, int length) {
    if (structured) {
      NbdReplies.writeOffsetDataHeader(reply, r.cookie(), r.offset(), length);
    } else {
      NbdReplies.writeSimpleHeader(reply, r.cookie(), 0);
    }
  }

  /**
   * Serves one read on a worker thread, into {@code reply} (a buffer taken on the event loop,
   * given back there once written).
   */
  private Reply read(ChannelHandlerContext ctx, ClientMessage.Request r, ByteBuf reply,
      long bytes) {
    int length = (int) r.length();
    try {
      writeReadHeader(reply, r, length);
      int header = reply.writerIndex();
      ByteBuffer dst = reply.nioBuffer(header, length);
      export.read(r.offset(), dst);
      if (dst.hasRemaining()) {
        throw new IOException("export returned " + dst.position() + " of " + length + " bytes");
      }
      reply.writerIndex(header + length);
      reply.retain(); // the channel releases one reference after writing; we keep the buffer
      return new Reply(reply, reply, bytes);
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "nbd: read of {0} bytes at offset {1} of export {2} failed: {3}",
          length, Long.toString(r.offset()), export.name(), e.getMessage());
      return new Reply(error(ctx.alloc(), r.cookie(), NbdWire.EIO,
          "read failed at offset " + r.offset() + ": " + e.getMessage()), reply, bytes);
    }
  }

  /**
   * NBD_CMD_BLOCK_STATUS: on the event loop when the export has the map at hand
   * ({@link NbdExport#allocationNow}), otherwise on a worker (an image version may fetch its table).
   */
  private void blockStatus(ChannelHandlerContext ctx, ClientMessage.Request r) {
    List<NbdExport.Extent> now;
    try {
      now = export.allocationNow(r.offset(), r.length(), maxExtents(r));
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "nbd: block status at offset {0} of export {1} on the event loop failed,"
          + " retried on a worker: {2}", Long.toString(r.offset()), export.name(), e.toString());
      now = null;
    }
    if (now != null) {
      ctx.write(statusReply(ctx.alloc(), r, now));
    } else {
      submit(ctx, r, 0, bytes -> {
        List<NbdExport.Extent> extents;
        try {
          extents = export.allocation(r.offset(), r.length(), maxExtents(r));
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "nbd: block status at offset {0} of export {1} failed: {2}",
              Long.toString(r.offset()), export.name(), e.getMessage());
          return new Reply(error(ctx.alloc(), r.cookie(), NbdWire.EIO,
              "block status failed at offset " + r.offset() + ": " + e.getMessage()), null, bytes);
        }
        return new Reply(statusReply(ctx.alloc(), r, extents), null, bytes);
      });
    }
  }

  /** One descriptor under NBD_CMD_FLAG_REQ_ONE, else at most the document's 2^20. */
  private static int maxExtents(ClientMessage.Request r) {
    return (r.flags() & NbdWire.CMD_FLAG_REQ_ONE) != 0 ? 1 : NbdWire.MAX_EXTENTS;
  }

  /**
   * The one NBD_REPLY_TYPE_BLOCK_STATUS chunk for base:allocation; NBD_EIO if the export broke its
   * contract (no extent, too many, or more bytes than asked: descriptors never pass the range).
   */
  private ByteBuf statusReply(ByteBufAllocator alloc, ClientMessage.Request r,
      List<NbdExport.Extent> extents) {
    long sum = 0;
    for (NbdExport.Extent e : extents) {
      sum += e.length();
    }
    if (extents.isEmpty() || extents.size() > maxExtents(r) || sum > r.length()) {
      String why = "export gave " + extents.size() + " extents of " + sum + " bytes for a range of "
          + r.length();
      LOG.log(Level.WARNING, "nbd: block status at offset {0} of export {1}: {2}",
          Long.toString(r.offset()), export.name(), why);
      return error(alloc, r.cookie(), NbdWire.EIO, why);
    }
    return NbdReplies.blockStatus(alloc, r.cookie(), NbdWire.BASE_ALLOCATION_ID, extents);
  }

  /** NBD_CMD_CACHE: reads the range (warming the block cache) and discards the bytes. */
  private Reply prefetch(ChannelHandlerContext ctx, ClientMessage.Request r, long bytes) {
    ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(r.length(), CACHE_CHUNK));
    long pos = r.offset();
    long end = r.offset() + r.length();
    ByteBuf toSend;
    try {
      while (pos < end) {
        scratch.clear().limit((int) Math.min(scratch.capacity(), end - pos));
        export.read(pos, scratch);
        pos += scratch.limit();
      }
      toSend = ok(ctx.alloc(), r.cookie());
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.WARNING, "nbd: prefetch at offset {0} of export {1} failed: {2}",
          Long.toString(pos), export.name(), e.getMessage());
      toSend = error(ctx.alloc(), r.cookie(), NbdWire.EIO,
          "prefetch failed at offset " + pos + ": " + e.getMessage());
    }
    return new Reply(toSend, null, bytes);
  }
}
