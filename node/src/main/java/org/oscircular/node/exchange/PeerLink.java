package org.oscircular.node.exchange;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.oscircular.node.p2p.FramedMessages;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.P2pStream;
import org.oscircular.protocol.blocks.BlockMessage;
import org.oscircular.protocol.blocks.BlockMessageCodec;
import org.oscircular.protocol.blocks.BlockSession;
import org.oscircular.protocol.blocks.BlockSession.Inbound;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.p2p.PeerId;

/**
 * The requester side of {@code /circular/blocks/1.0.0} towards one peer: one stream, wants queued until
 * the peer's Hello arrives and while its in-flight limit is reached. Answers complete the futures
 * returned by {@link #want}; a broken stream fails them all.
 */
final class PeerLink {
  private static final System.Logger LOG = System.getLogger(PeerLink.class.getName());

  /** A peer's answer to one want. Block data is unverified. */
  sealed interface Reply {
    record Got(byte[] data) implements Reply {}

    record NotHeld() implements Reply {}

    record Busy(int retryAfterMillis) implements Reply {}
  }

  private final PeerId peer;
  private final P2pStream stream;
  private final BlockSession session = new BlockSession(1);
  private final ArrayDeque<Queued> queue = new ArrayDeque<>();
  private final Map<BlockName, ArrayDeque<Queued>> waiting = new HashMap<>();
  private final CompletableFuture<BlockMessage.Hello> hello = new CompletableFuture<>();
  private final Map<List<BlockName>, ArrayDeque<CompletableFuture<boolean[]>>> queries = new HashMap<>();
  private Throwable broken;

  /** A want and what to run for each Fetching notice the peer sends about it. */
  private record Queued(BlockName name, CompletableFuture<Reply> reply, Runnable onFetching) {}

  private PeerLink(PeerId peer, P2pStream stream) {
    this.peer = peer;
    this.stream = stream;
  }

  /**
   * Opens a block stream to {@code peer}; {@code fetchingIntervalMillis} > 0 asks it for a Fetching notice that
   * often while it loads a block we want.
   */
  static CompletableFuture<PeerLink> open(Host host, PeerId peer, long fetchingIntervalMillis) {
    return host.openStream(peer, BlockService.PROTOCOL).thenApply(stream -> {
      var link = new PeerLink(peer, stream);
      stream.setListener(FramedMessages.listener(BlockMessageCodec.MAX_MESSAGE_BYTES, new FramedMessages.Handler() {
        @Override
        public void onMessage(P2pStream s, byte[] body) {
          link.onMessage(body);
        }

        @Override
        public void onEnd(P2pStream s, Throwable cause) {
          link.fail(cause == null ? new IOException("peer " + peer + " closed the block stream") : cause);
        }
      }));
      BlockMessage.Hello ours;
      synchronized (link) {
        ours = link.session.hello(BlockMessage.Role.CLIENT, List.of(), fetchingIntervalMillis);
      }
      stream.write(FramedMessages.frame(BlockMessageCodec.encode(ours)));
      return link;
    });
  }

  PeerId peer() {
    return peer;
  }

  /** The peer's Hello (role, complete tables), once it has arrived. */
  CompletableFuture<BlockMessage.Hello> hello() {
    return hello;
  }

  synchronized boolean isBroken() {
    return broken != null;
  }

  /** Wants a block; {@code onFetching} runs (on the stream's thread) for each Fetching notice about it. */
  CompletableFuture<Reply> want(BlockName name, Runnable onFetching) {
    var reply = new CompletableFuture<Reply>();
    synchronized (this) {
      if (broken != null) {
        reply.completeExceptionally(broken);
        return reply;
      }
      queue.add(new Queued(name, reply, onFetching));
    }
    pump();
    return reply;
  }

  /** Asks which of {@code names} the peer holds (at most 1024). */
  CompletableFuture<boolean[]> query(List<BlockName> names) {
    var answer = new CompletableFuture<boolean[]>();
    BlockMessage.HaveQuery q;
    synchronized (this) {
      if (broken != null) {
        answer.completeExceptionally(broken);
        return answer;
      }
      q = session.query(names);
      queries.computeIfAbsent(q.names(), n -> new ArrayDeque<>()).add(answer);
    }
    stream.write(FramedMessages.frame(BlockMessageCodec.encode(q)));
    return answer;
  }

  private void pump() {
    while (true) {
      BlockMessage.Want w;
      synchronized (this) {
        if (queue.isEmpty() || !session.canWant() || broken != null) {
          return;
        }
        Queued q = queue.poll();
        w = session.want(q.name());
        waiting.computeIfAbsent(q.name(), n -> new ArrayDeque<>()).add(q);
      }
      stream.write(FramedMessages.frame(BlockMessageCodec.encode(w)));
    }
  }

  private void onMessage(byte[] body) {
    Inbound in;
    CompletableFuture<Reply> target = null;
    Reply reply = null;
    CompletableFuture<boolean[]> queryTarget = null;
    boolean[] has = null;
    Runnable fetching = null;
    synchronized (this) {
      in = session.receive(body);
      switch (in) {
        case Inbound.PeerHello h -> hello.complete(h.hello());
        case Inbound.QueryAnswered a -> {
          var q = queries.get(a.names());
          queryTarget = q == null ? null : q.poll();
          if (q != null && q.isEmpty()) {
            queries.remove(a.names());
          }
          has = a.has();
        }
        case Inbound.BlockArrived b -> {
          target = take(b.name());
          reply = new Reply.Got(b.data());
        }
        case Inbound.NotHeld n -> {
          target = take(n.name());
          reply = new Reply.NotHeld();
        }
        case Inbound.PeerBusy b -> {
          target = take(b.name());
          reply = new Reply.Busy(b.retryAfterMillis());
        }
        case Inbound.PeerFetching f -> {
          var q = waiting.get(f.name());
          fetching = q == null || q.isEmpty() ? null : q.peek().onFetching();
        }
        default -> { }
      }
    }
    if (in instanceof Inbound.ProtocolError e) {
      LOG.log(Level.WARNING, "peer {0} broke {1}: {2}; resetting the stream", peer, BlockService.PROTOCOL, e.message());
      stream.reset();
      fail(new IOException("protocol error from " + peer + ": " + e.message()));
      return;
    }
    if (in instanceof Inbound.QueryReceived || in instanceof Inbound.WantReceived) {
      LOG.log(Level.WARNING, "peer {0} sent requests on a stream we opened; resetting", peer);
      stream.reset();
      fail(new IOException("peer " + peer + " sent requests on our stream"));
      return;
    }
    if (fetching != null) {
      fetching.run();
    }
    if (target != null) {
      target.complete(reply);
    }
    if (queryTarget != null) {
      queryTarget.complete(has);
    }
    pump();
  }

  private CompletableFuture<Reply> take(BlockName name) {
    var q = waiting.get(name);
    Queued f = q == null ? null : q.poll();
    if (q != null && q.isEmpty()) {
      waiting.remove(name);
    }
    return f == null ? null : f.reply();
  }

  void fail(Throwable cause) {
    java.util.List<CompletableFuture<Reply>> all = new java.util.ArrayList<>();
    synchronized (this) {
      if (broken != null) {
        return;
      }
      broken = cause;
      queue.forEach(q -> all.add(q.reply()));
      queue.clear();
      waiting.values().forEach(qs -> qs.forEach(q -> all.add(q.reply())));
      waiting.clear();
      queries.values().forEach(qs -> qs.forEach(q -> q.completeExceptionally(cause)));
      queries.clear();
    }
    hello.completeExceptionally(cause);
    all.forEach(f -> f.completeExceptionally(cause));
  }

  void close() {
    fail(new IOException("link to " + peer + " closed"));
    stream.reset();
  }
}
