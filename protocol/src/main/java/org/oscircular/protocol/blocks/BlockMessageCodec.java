package org.oscircular.protocol.blocks;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.List;
import org.oscircular.protocol.blocks.proto.BlocksProto;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.FormatException;

/**
 * Encodes and decodes one {@link BlockMessage} body (the bytes after the uvarint length prefix).
 * Decoding validates every field; anything malformed is a {@link FormatException}, after which the
 * stream is reset (the connection and the node stay up).
 */
public final class BlockMessageCodec {
  /** Default and upper bound of a message: a 4 MiB block plus its framing. */
  public static final int MAX_MESSAGE_BYTES = 4 * 1024 * 1024 + 64 * 1024;
  public static final int MAX_NAMES_PER_QUERY = 1024;
  public static final int MAX_COMPLETE_TABLES = 256;
  public static final int MAX_IN_FLIGHT_LIMIT = 1024;
  /** Bounds of a non-zero Hello {@code fetching_interval_ms}. */
  public static final int MIN_FETCHING_INTERVAL_MS = 100;
  public static final int MAX_FETCHING_INTERVAL_MS = 600_000;

  private BlockMessageCodec() {}

  public static byte[] encode(BlockMessage m) {
    var b = BlocksProto.BlockMessage.newBuilder();
    switch (m) {
      case BlockMessage.Hello h -> {
        var hb = BlocksProto.Hello.newBuilder()
            .setMaxInFlight(h.maxInFlight())
            .setMaxMessageBytes(h.maxMessageBytes())
            .setRole(h.role() == BlockMessage.Role.SEED ? BlocksProto.Role.SEED : BlocksProto.Role.CLIENT)
            .setFetchingIntervalMs(h.fetchingIntervalMillis());
        h.completeTables().forEach(t -> hb.addCompleteTables(ByteString.copyFrom(t)));
        b.setHello(hb);
      }
      case BlockMessage.HaveQuery q -> {
        var qb = BlocksProto.HaveQuery.newBuilder().setId(q.id());
        q.names().forEach(n -> qb.addNames(ByteString.copyFrom(n.sha1())));
        b.setHaveQuery(qb);
      }
      case BlockMessage.HaveReply r -> {
        byte[] bits = new byte[(r.has().length + 7) / 8];
        for (int i = 0; i < r.has().length; i++) {
          if (r.has()[i]) {
            bits[i >>> 3] |= (byte) (1 << (i & 7));
          }
        }
        b.setHaveReply(BlocksProto.HaveReply.newBuilder().setId(r.id()).setBitmap(ByteString.copyFrom(bits)));
      }
      case BlockMessage.Want w ->
          b.setWant(BlocksProto.Want.newBuilder().setId(w.id()).setName(ByteString.copyFrom(w.name().sha1())));
      case BlockMessage.Block k -> b.setBlock(BlocksProto.Block.newBuilder().setId(k.id())
          .setName(ByteString.copyFrom(k.name().sha1())).setData(ByteString.copyFrom(k.data())));
      case BlockMessage.DontHave d -> b.setDontHave(
          BlocksProto.DontHave.newBuilder().setId(d.id()).setName(ByteString.copyFrom(d.name().sha1())));
      case BlockMessage.Busy y ->
          b.setBusy(BlocksProto.Busy.newBuilder().setId(y.id()).setRetryAfterMs(y.retryAfterMillis()));
      case BlockMessage.Fetching f -> b.setFetching(BlocksProto.Fetching.newBuilder().setId(f.id()));
    }
    return b.build().toByteArray();
  }

  /**
   * Decodes a message body. {@code queryLength} answers how many names the HaveQuery with a given id
   * asked about (so a HaveReply's bitmap can be sized), or -1 when that query is unknown.
   */
  public static BlockMessage decode(byte[] body, java.util.function.LongToIntFunction queryLength)
      throws FormatException {
    if (body.length > MAX_MESSAGE_BYTES) {
      throw new FormatException("block message of " + body.length + " bytes exceeds " + MAX_MESSAGE_BYTES);
    }
    BlocksProto.BlockMessage m;
    try {
      m = BlocksProto.BlockMessage.parseFrom(body);
    } catch (InvalidProtocolBufferException e) {
      throw new FormatException("malformed block message: " + e.getMessage());
    }
    return switch (m.getBodyCase()) {
      case HELLO -> {
        var h = m.getHello();
        if (h.getMaxInFlight() < 1 || h.getMaxInFlight() > MAX_IN_FLIGHT_LIMIT) {
          throw new FormatException("hello: max_in_flight " + h.getMaxInFlight() + " outside 1.." + MAX_IN_FLIGHT_LIMIT);
        }
        if (h.getMaxMessageBytes() < 64 * 1024 || h.getMaxMessageBytes() > MAX_MESSAGE_BYTES) {
          throw new FormatException("hello: max_message_bytes " + h.getMaxMessageBytes() + " outside 64 KiB.."
              + MAX_MESSAGE_BYTES);
        }
        if (h.getCompleteTablesCount() > MAX_COMPLETE_TABLES) {
          throw new FormatException("hello: more than " + MAX_COMPLETE_TABLES + " complete tables");
        }
        List<byte[]> tables = new ArrayList<>();
        for (ByteString t : h.getCompleteTablesList()) {
          if (t.size() != 32) {
            throw new FormatException("hello: a table digest is " + t.size() + " bytes, expected 32");
          }
          tables.add(t.toByteArray());
        }
        int fetching = h.getFetchingIntervalMs();
        if (fetching != 0 && (fetching < MIN_FETCHING_INTERVAL_MS || fetching > MAX_FETCHING_INTERVAL_MS)) {
          throw new FormatException("hello: fetching_interval_ms " + Integer.toUnsignedString(fetching)
              + " is neither 0 nor within " + MIN_FETCHING_INTERVAL_MS + ".." + MAX_FETCHING_INTERVAL_MS);
        }
        var role = switch (h.getRole()) {
          case SEED -> BlockMessage.Role.SEED;
          case CLIENT, ROLE_UNSPECIFIED, UNRECOGNIZED -> BlockMessage.Role.CLIENT;
        };
        yield new BlockMessage.Hello(h.getMaxInFlight(), h.getMaxMessageBytes(), role, tables, fetching);
      }
      case HAVE_QUERY -> {
        var q = m.getHaveQuery();
        if (q.getNamesCount() == 0 || q.getNamesCount() > MAX_NAMES_PER_QUERY) {
          throw new FormatException("have query with " + q.getNamesCount() + " names (allowed 1.." + MAX_NAMES_PER_QUERY + ")");
        }
        List<BlockName> names = new ArrayList<>(q.getNamesCount());
        for (ByteString n : q.getNamesList()) {
          names.add(name(n, "have query"));
        }
        yield new BlockMessage.HaveQuery(q.getId(), names);
      }
      case HAVE_REPLY -> {
        var r = m.getHaveReply();
        int n = queryLength.applyAsInt(r.getId());
        if (n < 0) {
          throw new FormatException("have reply to unknown query " + r.getId());
        }
        if (r.getBitmap().size() != (n + 7) / 8) {
          throw new FormatException("have reply bitmap is " + r.getBitmap().size() + " bytes for " + n + " names");
        }
        boolean[] has = new boolean[n];
        for (int i = 0; i < n; i++) {
          has[i] = (r.getBitmap().byteAt(i >>> 3) & (1 << (i & 7))) != 0;
        }
        yield new BlockMessage.HaveReply(r.getId(), has);
      }
      case WANT -> new BlockMessage.Want(m.getWant().getId(), name(m.getWant().getName(), "want"));
      case BLOCK -> {
        var k = m.getBlock();
        if (k.getData().isEmpty()) {
          throw new FormatException("block message with no data");
        }
        yield new BlockMessage.Block(k.getId(), name(k.getName(), "block"), k.getData().toByteArray());
      }
      case DONT_HAVE -> new BlockMessage.DontHave(m.getDontHave().getId(), name(m.getDontHave().getName(), "dont-have"));
      case BUSY -> {
        int retry = m.getBusy().getRetryAfterMs();
        if (retry < 0 || retry > 600_000) {
          throw new FormatException("busy: retry_after_ms " + Integer.toUnsignedString(retry) + " outside 0..600000");
        }
        yield new BlockMessage.Busy(m.getBusy().getId(), retry);
      }
      case FETCHING -> new BlockMessage.Fetching(m.getFetching().getId());
      case BODY_NOT_SET -> throw new FormatException("block message with no body (unknown message type?)");
    };
  }

  private static BlockName name(ByteString b, String where) throws FormatException {
    if (b.size() != BlockName.LENGTH) {
      throw new FormatException(where + ": block name is " + b.size() + " bytes, expected 20");
    }
    return new BlockName(b.toByteArray());
  }
}
