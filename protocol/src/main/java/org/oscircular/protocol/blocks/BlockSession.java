package org.oscircular.protocol.blocks;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.FormatException;

/**
 * Both ends of one {@code /circular/blocks/1.0.0} stream as a sans-I/O state machine: it hands out
 * request ids, remembers what is outstanding, enforces the peer's and our in-flight limits, and turns
 * each received message into an {@link Inbound} the driver acts on. A message that breaks the
 * protocol yields {@link Inbound.ProtocolError}; the driver then resets the stream. Not thread-safe:
 * one stream, one caller at a time.
 */
public final class BlockSession {
  private final int ourMaxInFlight;
  /** The Fetching interval our Hello asked for; 0: we said we do not understand Fetching. */
  private int ourFetchingInterval;
  private BlockMessage.Hello peerHello;
  private long nextId = 1;
  private final Map<Long, BlockName> wants = new HashMap<>();
  private final Map<Long, List<BlockName>> queries = new HashMap<>();
  /** Wants the peer sent us that we have not answered yet. */
  private final Map<Long, BlockName> servingWants = new HashMap<>();

  public BlockSession(int ourMaxInFlight) {
    if (ourMaxInFlight < 1 || ourMaxInFlight > BlockMessageCodec.MAX_IN_FLIGHT_LIMIT) {
      throw new IllegalArgumentException("max in flight must be 1.." + BlockMessageCodec.MAX_IN_FLIGHT_LIMIT);
    }
    this.ourMaxInFlight = ourMaxInFlight;
  }

  /** What a received message means to the driver. */
  public sealed interface Inbound {
    record PeerHello(BlockMessage.Hello hello) implements Inbound {}

    /** The peer asks which of {@code names} we hold; answer with {@link #answerQuery}. */
    record QueryReceived(long id, List<BlockName> names) implements Inbound {}

    /** Our query was answered. */
    record QueryAnswered(List<BlockName> names, boolean[] has) implements Inbound {}

    /** The peer wants a block; answer with {@link #answerBlock}, {@link #answerDontHave} or {@link #answerBusy}. */
    record WantReceived(long id, BlockName name) implements Inbound {}

    /** An answer to our want. {@code data} is unverified. */
    record BlockArrived(BlockName name, byte[] data) implements Inbound {}

    record NotHeld(BlockName name) implements Inbound {}

    record PeerBusy(BlockName name, int retryAfterMillis) implements Inbound {}

    /** The peer is still loading the block of our want; the want stays outstanding. */
    record PeerFetching(BlockName name) implements Inbound {}

    record ProtocolError(String message) implements Inbound {}
  }

  /** Our Hello, to send first, saying we do not understand Fetching notices. */
  public BlockMessage.Hello hello(BlockMessage.Role role, List<byte[]> completeTables) {
    return hello(role, completeTables, 0);
  }

  /**
   * Our Hello, to send first. {@code fetchingIntervalMillis} > 0 asks the peer for a Fetching notice that often for
   * each of our wants it is still loading (clamped to the allowed range); 0 asks for none.
   */
  public BlockMessage.Hello hello(BlockMessage.Role role, List<byte[]> completeTables, long fetchingIntervalMillis) {
    ourFetchingInterval = fetchingIntervalMillis <= 0 ? 0 : (int) Math.clamp(fetchingIntervalMillis,
        BlockMessageCodec.MIN_FETCHING_INTERVAL_MS, BlockMessageCodec.MAX_FETCHING_INTERVAL_MS);
    return new BlockMessage.Hello(ourMaxInFlight, BlockMessageCodec.MAX_MESSAGE_BYTES, role, completeTables,
        ourFetchingInterval);
  }

  /** How often the peer wants Fetching notices (ms), or 0 when it does not understand them or has not said. */
  public int peerFetchingIntervalMillis() {
    return peerHello == null ? 0 : peerHello.fetchingIntervalMillis();
  }

  /**
   * A Fetching notice for the peer's want {@code id}, or null when none may be sent: the peer's Hello did not ask
   * for them, or the want is already answered.
   */
  public BlockMessage.Fetching fetching(long id) {
    if (peerFetchingIntervalMillis() == 0 || !servingWants.containsKey(id)) {
      return null;
    }
    return new BlockMessage.Fetching(id);
  }

  /** Whether another want may be sent now: the peer's Hello has arrived and its limit is not reached. */
  public boolean canWant() {
    return peerHello != null && wants.size() < peerHello.maxInFlight();
  }

  public int outstandingWants() {
    return wants.size();
  }

  /** A want to send; call only when {@link #canWant()}. */
  public BlockMessage.Want want(BlockName name) {
    if (!canWant()) {
      throw new IllegalStateException("the peer's in-flight limit is reached or its hello has not arrived");
    }
    long id = nextId++;
    wants.put(id, name);
    return new BlockMessage.Want(id, name);
  }

  public BlockMessage.HaveQuery query(List<BlockName> names) {
    long id = nextId++;
    queries.put(id, List.copyOf(names));
    return new BlockMessage.HaveQuery(id, names);
  }

  public BlockMessage.HaveReply answerQuery(long id, boolean[] has) {
    return new BlockMessage.HaveReply(id, has);
  }

  public BlockMessage.Block answerBlock(long id, byte[] data) {
    return new BlockMessage.Block(id, served(id), data);
  }

  public BlockMessage.DontHave answerDontHave(long id) {
    return new BlockMessage.DontHave(id, served(id));
  }

  public BlockMessage.Busy answerBusy(long id, int retryAfterMillis) {
    served(id);
    return new BlockMessage.Busy(id, retryAfterMillis);
  }

  private BlockName served(long id) {
    BlockName n = servingWants.remove(id);
    if (n == null) {
      throw new IllegalStateException("no want " + id + " is waiting for an answer");
    }
    return n;
  }

  /** Decodes a message body from the peer and updates the session. */
  public Inbound receive(byte[] body) {
    BlockMessage m;
    try {
      m = BlockMessageCodec.decode(body, id -> {
        List<BlockName> q = queries.get(id);
        return q == null ? -1 : q.size();
      });
    } catch (FormatException e) {
      return new Inbound.ProtocolError(e.getMessage());
    }
    if (peerHello == null && !(m instanceof BlockMessage.Hello)) {
      return new Inbound.ProtocolError("first message must be a hello, got " + m.getClass().getSimpleName());
    }
    return switch (m) {
      case BlockMessage.Hello h -> {
        if (peerHello != null) {
          yield new Inbound.ProtocolError("second hello on one stream");
        }
        peerHello = h;
        yield new Inbound.PeerHello(h);
      }
      case BlockMessage.HaveQuery q -> new Inbound.QueryReceived(q.id(), q.names());
      case BlockMessage.HaveReply r -> new Inbound.QueryAnswered(queries.remove(r.id()), r.has());
      case BlockMessage.Want w -> {
        if (servingWants.size() >= ourMaxInFlight) {
          yield new Inbound.ProtocolError("peer exceeded our in-flight limit of " + ourMaxInFlight);
        }
        if (servingWants.putIfAbsent(w.id(), w.name()) != null) {
          yield new Inbound.ProtocolError("peer reused want id " + w.id());
        }
        yield new Inbound.WantReceived(w.id(), w.name());
      }
      case BlockMessage.Block b -> answered(b.id(), b.name(), n -> new Inbound.BlockArrived(n, b.data()));
      case BlockMessage.DontHave d -> answered(d.id(), d.name(), Inbound.NotHeld::new);
      case BlockMessage.Busy y -> {
        BlockName n = wants.remove(y.id());
        yield n == null ? new Inbound.ProtocolError("busy for unknown want " + y.id())
            : new Inbound.PeerBusy(n, y.retryAfterMillis());
      }
      case BlockMessage.Fetching f -> {
        BlockName n = wants.get(f.id());
        if (n == null) {
          yield new Inbound.ProtocolError("fetching notice for unknown want " + f.id());
        }
        yield ourFetchingInterval == 0 ? new Inbound.ProtocolError("fetching notice, but our hello asked for none")
            : new Inbound.PeerFetching(n);
      }
    };
  }

  private Inbound answered(long id, BlockName name, java.util.function.Function<BlockName, Inbound> ok) {
    BlockName expected = wants.get(id);
    if (expected == null) {
      return new Inbound.ProtocolError("answer to unknown want " + id);
    }
    if (!expected.equals(name)) {
      return new Inbound.ProtocolError("answer to want " + id + " names " + name + " instead of " + expected);
    }
    wants.remove(id);
    return ok.apply(name);
  }
}
