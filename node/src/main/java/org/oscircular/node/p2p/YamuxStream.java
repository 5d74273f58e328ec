package org.oscircular.node.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.oscircular.protocol.p2p.Multistream;
import org.oscircular.protocol.p2p.PeerId;
import org.oscircular.protocol.p2p.YamuxFlowControl;
import org.oscircular.protocol.p2p.YamuxHeader;

/**
 * One yamux stream: runs multistream-select on its first bytes, then carries the protocol's data with
 * per-stream flow control. State is confined to the session's event loop; public methods hop there.
 */
final class YamuxStream implements P2pStream {
  private static final System.Logger LOG = System.getLogger(YamuxStream.class.getName());

  private record PendingWrite(ByteBuf data, CompletableFuture<Void> done) {}

  private final YamuxSession session;
  private final int id;
  private final boolean outbound;
  private final YamuxFlowControl flow;
  private final CompletableFuture<P2pStream> openFuture;
  private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
  private final ArrayDeque<PendingWrite> pending = new ArrayDeque<>();
  private final ArrayDeque<ByteBuf> inbound = new ArrayDeque<>();
  private Multistream negotiation;
  private ByteBuf negotiationBytes;
  private volatile String protocol;
  private StreamListener listener;
  private boolean autoRead = true;
  private boolean finRequested;
  private CompletableFuture<Void> finFuture;
  private boolean finSent;
  private boolean remoteFin;
  private boolean readClosedDelivered;
  private boolean reset;
  private boolean delivering;

  YamuxStream(YamuxSession session, int id, boolean outbound, String protocol, CompletableFuture<P2pStream> openFuture) {
    this.session = session;
    this.id = id;
    this.outbound = outbound;
    this.flow = new YamuxFlowControl(session.host().config().yamuxReceiveWindow());
    this.openFuture = openFuture;
    if (outbound) {
      this.negotiation = Multistream.dialer(List.of(protocol));
    } else {
      Host host = session.host();
      this.negotiation = Multistream.listener(host::hasHandler);
    }
  }

  int id() {
    return id;
  }

  YamuxFlowControl flow() {
    return flow;
  }

  /** Sends the multistream header (and, outbound, the proposal). */
  void startNegotiation() {
    sendRaw(Unpooled.wrappedBuffer(negotiation.start()));
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public PeerId remotePeer() {
    return session.remotePeer();
  }

  @Override
  public Connection connection() {
    return session;
  }

  @Override
  public CompletableFuture<Void> closeFuture() {
    return closeFuture;
  }

  @Override
  public CompletableFuture<Void> write(ByteBuf data) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (session.executor().inEventLoop()) {
      write0(data, done);
    } else {
      session.executor().execute(() -> write0(data, done));
    }
    return done;
  }

  private void write0(ByteBuf data, CompletableFuture<Void> done) {
    if (reset || finRequested) {
      data.release();
      done.completeExceptionally(new IOException("stream " + id + " to " + remotePeer() + " is closed for writing"));
      return;
    }
    pending.add(new PendingWrite(data, done));
    flushPending();
  }

  private void sendRaw(ByteBuf data) {
    pending.add(new PendingWrite(data, new CompletableFuture<>()));
    flushPending();
  }

  /** Sends queued data as far as the peer's window allows, then a FIN if one was requested. */
  void flushPending() {
    boolean wrote = false;
    while (!pending.isEmpty() && !reset) {
      PendingWrite p = pending.peek();
      int readable = p.data().readableBytes();
      if (readable > 0) {
        long window = flow.sendWindow();
        if (window <= 0) {
          break;
        }
        int n = (int) Math.min(Math.min(readable, window), YamuxSession.MAX_DATA_FRAME);
        flow.onSent(n);
        session.writeData(id, 0, p.data().readRetainedSlice(n));
        wrote = true;
      }
      if (!p.data().isReadable()) {
        pending.poll();
        p.data().release();
        p.done().complete(null);
      }
    }
    if (pending.isEmpty() && finRequested && !finSent && !reset) {
      finSent = true;
      session.writeFrame(YamuxHeader.TYPE_DATA, YamuxHeader.FLAG_FIN, id, 0);
      wrote = true;
      finFuture.complete(null);
      closeIfDone();
    }
    if (wrote) {
      session.requestFlush();
    }
  }

  @Override
  public CompletableFuture<Void> closeWrite() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    session.executor().execute(() -> {
      if (reset) {
        f.completeExceptionally(new IOException("stream " + id + " was reset"));
      } else if (finRequested) {
        finFuture.whenComplete((v, t) -> f.complete(null));
      } else {
        finRequested = true;
        finFuture = f;
        flushPending();
      }
    });
    return f;
  }

  @Override
  public void reset() {
    session.executor().execute(() -> {
      if (reset || closeFuture.isDone()) {
        return;
      }
      session.writeFrame(YamuxHeader.TYPE_WINDOW_UPDATE, YamuxHeader.FLAG_RST, id, 0);
      session.flushNow();
      terminate(new IOException("stream " + id + " reset locally"), false);
    });
  }

  @Override
  public void setListener(StreamListener l) {
    session.executor().execute(() -> {
      listener = l;
      deliver();
    });
  }

  @Override
  public void setAutoRead(boolean on) {
    if (session.executor().inEventLoop()) {
      autoRead = on;
      deliver();
    } else {
      session.executor().execute(() -> {
        autoRead = on;
        deliver();
      });
    }
  }

  /** DATA payload from the peer (ownership passes here). */
  void onData(ByteBuf data) {
    if (reset) {
      data.release();
      return;
    }
    if (negotiation != null) {
      negotiate(data);
      return;
    }
    inbound.add(data);
    deliver();
  }

  private void negotiate(ByteBuf data) {
    int received = data.readableBytes();
    if (negotiationBytes == null) {
      negotiationBytes = Unpooled.buffer(received);
    }
    negotiationBytes.writeBytes(data);
    data.release();
    ByteBuffer nio = negotiationBytes.nioBuffer();
    byte[] reply = negotiation.onInput(nio);
    negotiationBytes.skipBytes(nio.position());
    consumed(nio.position());
    if (reply.length > 0) {
      sendRaw(Unpooled.wrappedBuffer(reply));
    }
    switch (negotiation.outcome()) {
      case Multistream.Pending p -> {
        if (negotiationBytes.readableBytes() > Multistream.MAX_MESSAGE + 16) {
          negotiationFailed("oversized multistream message");
        }
      }
      case Multistream.Failed f -> negotiationFailed(f.reason());
      case Multistream.Selected s -> {
        protocol = s.protocol();
        negotiation = null;
        ByteBuf rest = negotiationBytes;
        negotiationBytes = null;
        if (rest.isReadable()) {
          inbound.add(rest);
        } else {
          rest.release();
        }
        if (outbound) {
          openFuture.complete(this);
        } else {
          StreamHandler handler = session.host().handler(protocol);
          try {
            handler.onStream(this);
          } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "handler for {0} failed on a stream from {1}: {2}", protocol, remotePeer(), e.toString());
            reset();
            return;
          }
        }
        deliver();
      }
    }
  }

  private void negotiationFailed(String reason) {
    if (outbound) {
      openFuture.completeExceptionally(new IOException("cannot open a stream to " + remotePeer() + ": " + reason));
    } else {
      LOG.log(Level.DEBUG, "stream negotiation with {0} failed: {1}", remotePeer(), reason);
    }
    reset();
  }

  private void deliver() {
    if (delivering) {
      return;
    }
    delivering = true;
    try {
      while (autoRead && listener != null && !inbound.isEmpty() && !reset) {
        ByteBuf b = inbound.poll();
        int n = b.readableBytes();
        try {
          listener.onData(this, b);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "stream listener for {0} failed on data from {1}: {2}", protocol, remotePeer(), e.toString());
          reset();
        } finally {
          b.release();
        }
        consumed(n);
      }
      if (remoteFin && inbound.isEmpty() && listener != null && !readClosedDelivered && !reset) {
        readClosedDelivered = true;
        listener.onReadClosed(this);
        closeIfDone();
      }
    } finally {
      delivering = false;
    }
  }

  private void consumed(int n) {
    int delta = flow.onConsumed(n);
    if (delta > 0 && !reset && !remoteFin) {
      session.writeFrame(YamuxHeader.TYPE_WINDOW_UPDATE, 0, id, delta);
      session.requestFlush();
    }
  }

  void onRemoteFin() {
    remoteFin = true;
    if (negotiation != null) {
      negotiationFailed("peer closed the stream during negotiation");
      return;
    }
    deliver();
  }

  void onRemoteReset() {
    terminate(new IOException("stream " + id + " reset by " + remotePeer()), true);
  }

  void onConnectionClosed(Throwable cause) {
    terminate(cause, true);
  }

  private void terminate(Throwable cause, boolean notify) {
    if (reset) {
      return;
    }
    reset = true;
    for (PendingWrite p : pending) {
      p.data().release();
      p.done().completeExceptionally(cause);
    }
    pending.clear();
    for (ByteBuf b : inbound) {
      b.release();
    }
    inbound.clear();
    if (negotiationBytes != null) {
      negotiationBytes.release();
      negotiationBytes = null;
    }
    if (finFuture != null && !finFuture.isDone()) {
      finFuture.completeExceptionally(cause);
    }
    if (openFuture != null && !openFuture.isDone()) {
      openFuture.completeExceptionally(new IOException("stream to " + remotePeer() + " ended: " + cause.getMessage(), cause));
    }
    session.unregister(this);
    if (notify && listener != null && !closeFuture.isDone()) {
      try {
        listener.onReset(this, cause);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "stream listener failed on reset: {0}", e.toString());
      }
    }
    closeFuture.complete(null);
  }

  private void closeIfDone() {
    if (finSent && remoteFin && inbound.isEmpty() && !reset && (readClosedDelivered || listener == null)) {
      session.unregister(this);
      closeFuture.complete(null);
    }
  }

  @Override
  public String toString() {
    return "Stream[" + id + " " + protocol + " " + remotePeer() + "]";
  }
}
