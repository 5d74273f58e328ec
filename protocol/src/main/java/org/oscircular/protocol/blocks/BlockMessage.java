package org.oscircular.protocol.blocks;

import java.util.Arrays;
import java.util.List;
import org.oscircular.protocol.format.BlockName;

/**
 * Messages of {@code /circular/blocks/1.0.0} as validated values. {@link BlockMessageCodec} turns them
 * into and out of bytes; see docs/blocks-protocol.md.
 */
public sealed interface BlockMessage {

  enum Role { CLIENT, SEED }

  /**
   * @param fetchingIntervalMillis 0 when the sender does not understand {@link Fetching}; otherwise how often (ms)
   *     it wants a notice for each of its wants the holder is still loading
   */
  record Hello(int maxInFlight, int maxMessageBytes, Role role, List<byte[]> completeTables, int fetchingIntervalMillis)
      implements BlockMessage {
    public Hello {
      completeTables = List.copyOf(completeTables);
    }

    /** A Hello from a peer that does not understand {@link Fetching}. */
    public Hello(int maxInFlight, int maxMessageBytes, Role role, List<byte[]> completeTables) {
      this(maxInFlight, maxMessageBytes, role, completeTables, 0);
    }

    /** Whether the sender understands {@link Fetching} notices. */
    public boolean understandsFetching() {
      return fetchingIntervalMillis > 0;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Hello h) || h.maxInFlight != maxInFlight || h.maxMessageBytes != maxMessageBytes
          || h.role != role || h.fetchingIntervalMillis != fetchingIntervalMillis
          || h.completeTables.size() != completeTables.size()) {
        return false;
      }
      for (int i = 0; i < completeTables.size(); i++) {
        if (!Arrays.equals(completeTables.get(i), h.completeTables.get(i))) {
          return false;
        }
      }
      return true;
    }

    @Override
    public int hashCode() {
      return maxInFlight * 31 + maxMessageBytes;
    }
  }

  record HaveQuery(long id, List<BlockName> names) implements BlockMessage {
    public HaveQuery {
      names = List.copyOf(names);
    }
  }

  /** {@code has[i]} answers {@code names[i]} of the query with the same id. */
  record HaveReply(long id, boolean[] has) implements BlockMessage {
    @Override
    public boolean equals(Object o) {
      return o instanceof HaveReply r && r.id == id && Arrays.equals(r.has, has);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(id);
    }
  }

  record Want(long id, BlockName name) implements BlockMessage {}

  /** A block's stored bytes. Unverified until checked against a signed table entry. */
  record Block(long id, BlockName name, byte[] data) implements BlockMessage {
    @Override
    public boolean equals(Object o) {
      return o instanceof Block b && b.id == id && b.name.equals(name) && Arrays.equals(b.data, data);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(id) * 31 + name.hashCode();
    }
  }

  record DontHave(long id, BlockName name) implements BlockMessage {}

  record Busy(long id, int retryAfterMillis) implements BlockMessage {}

  /** The holder is still loading the block of want {@code id}; that want will still be answered once. */
  record Fetching(long id) implements BlockMessage {}
}
