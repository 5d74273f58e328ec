package org.oscircular.node.exchange;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.oscircular.node.p2p.FramedMessages;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.P2pStream;
import org.oscircular.protocol.blocks.BlockMessage;
import org.oscircular.protocol.blocks.BlockMessageCodec;
import org.oscircular.protocol.blocks.BlockSession;
import org.oscircular.protocol.blocks.BlockSession.Inbound;

/**
 * The holder side of {@code /circular/blocks/1.0.0}: answers have-queries and wants from peers out of a
 * {@link BlockProvider}, within upload limits. Reads happen on the upload executor, so serving never runs
 * on an I/O thread nor competes with this node's own reads for them. While the provider loads a block it
 * did not hold (fetch-through), a requester whose Hello asked for them gets a {@code Fetching} notice at
 * once and then at the interval it asked for, until its want is answered.
 */
public final class BlockService {
  public static final String PROTOCOL = "/circular/blocks/1.0.0";
  static final int MAX_IN_FLIGHT = 32;
  static final int BUSY_RETRY_MS = 100;
  private static final System.Logger LOG = System.getLogger(BlockService.class.getName());

  private final BlockProvider provider;
  private final Executor uploads;
  private final UploadLimiter limiter;
  private final BlockMessage.Role role;
  private final Supplier<List<byte[]>> completeTables;
  private final ExchangeMetrics metrics;
  private final ScheduledExecutorService timers;

  BlockService(BlockProvider provider, Executor uploads, UploadLimiter limiter, BlockMessage.Role role,
      Supplier<List<byte[]>> completeTables, ExchangeMetrics metrics, ScheduledExecutorService timers) {
    this.provider = provider;
    this.timers = timers;
    this.uploads = uploads;
    this.limiter = limiter;
    this.role = role;
    this.completeTables = completeTables;
    this.metrics = metrics;
  }

  public void register(Host host) {
    host.registerHandler(PROTOCOL, this::onStream);
  }

  private void onStream(P2pStream stream) {
    var session = new BlockSession(MAX_IN_FLIGHT);
    synchronized (session) {
      stream.write(FramedMessages.frame(BlockMessageCodec.encode(session.hello(role, completeTables.get()))));
    }
    stream.setListener(FramedMessages.listener(BlockMessageCodec.MAX_MESSAGE_BYTES, new FramedMessages.Handler() {
      @Override
      public void onMessage(P2pStream s, byte[] body) {
        Inbound in;
        synchronized (session) {
          in = session.receive(body);
        }
        switch (in) {
          case Inbound.PeerHello h -> { }
          case Inbound.QueryReceived q -> {
            boolean[] has = new boolean[q.names().size()];
            for (int i = 0; i < has.length; i++) {
              has[i] = provider.has(q.names().get(i));
            }
            BlockMessage reply;
            synchronized (session) {
              reply = session.answerQuery(q.id(), has);
            }
            send(s, reply);
          }
          case Inbound.WantReceived w -> serve(s, session, w);
          case Inbound.ProtocolError e -> {
            LOG.log(Level.WARNING, "peer {0} broke {1}: {2}; resetting the stream", s.remotePeer(), PROTOCOL,
                e.message());
            metrics.protocolError(s.remotePeer());
            s.reset();
          }
          default -> {
            LOG.log(Level.WARNING, "peer {0} sent an answer on a stream it opened; resetting", s.remotePeer());
            s.reset();
          }
        }
      }

      @Override
      public void onEnd(P2pStream s, Throwable cause) {
        if (cause == null) {
          s.closeWrite();
        } else {
          LOG.log(Level.DEBUG, "block stream from {0} ended: {1}", s.remotePeer(), cause.getMessage());
        }
      }
    }));
  }

  private void serve(P2pStream s, BlockSession session, Inbound.WantReceived w) {
    if (!limiter.tryStart()) {
      metrics.busy();
      BlockMessage busy;
      synchronized (session) {
        busy = session.answerBusy(w.id(), BUSY_RETRY_MS);
      }
      send(s, busy);
      return;
    }
    try {
      uploads.execute(() -> {
        var notices = new FetchingNotices(s, session, w.id());
        try {
          Optional<byte[]> data;
          try {
            data = provider.serve(w.name(), notices::start);
          } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "serving block {0} to {1} failed: {2}", w.name(), s.remotePeer(), e.getMessage());
            data = Optional.empty();
          }
          notices.stop(); // the load is over; pacing the upload is not loading
          if (data.isPresent()) {
            limiter.pace(data.get().length);
          }
          BlockMessage answer;
          synchronized (session) {
            answer = data.isPresent() ? session.answerBlock(w.id(), data.get()) : session.answerDontHave(w.id());
          }
          data.ifPresent(d -> metrics.uploaded(s.remotePeer(), d.length));
          send(s, answer);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          s.reset();
        } finally {
          notices.stop();
          limiter.finish();
        }
      });
    } catch (RejectedExecutionException e) {
      limiter.finish();
      s.reset();
    }
  }

  /** The Fetching notices of one want while its block loads; start and stop run on the want's upload thread. */
  private final class FetchingNotices {
    private final P2pStream stream;
    private final BlockSession session;
    private final long id;
    private ScheduledFuture<?> repeat;

    FetchingNotices(P2pStream stream, BlockSession session, long id) {
      this.stream = stream;
      this.session = session;
      this.id = id;
    }

    void start() {
      int interval;
      synchronized (session) {
        interval = session.peerFetchingIntervalMillis();
      }
      if (interval == 0 || repeat != null) {
        return; // the requester does not understand Fetching
      }
      notice();
      try {
        repeat = timers.scheduleAtFixedRate(this::notice, interval, interval, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        LOG.log(Level.DEBUG, "no fetching notices for want {0} of {1}: shutting down", id, stream.remotePeer());
      }
    }

    /**
     * Sends one notice unless the want is answered. Written under the session's lock: an answer is taken from
     * the session under the same lock, so no notice can follow the answer on the wire.
     */
    private void notice() {
      synchronized (session) {
        BlockMessage.Fetching f = session.fetching(id);
        if (f != null) {
          send(stream, f);
          metrics.fetchingNoticeSent();
        }
      }
    }

    void stop() {
      if (repeat != null) {
        repeat.cancel(false);
        repeat = null;
      }
    }
  }

  private static void send(P2pStream s, BlockMessage m) {
    s.write(FramedMessages.frame(BlockMessageCodec.encode(m)));
  }
}
