package org.oscircular.node.exchange;

import java.io.IOException;
import java.util.Optional;
import org.oscircular.protocol.format.BlockName;

/** What a node can give peers: blocks it holds, and (for designated blocks or on seeds) blocks it loads. */
public interface BlockProvider {
  /** Whether the block is cached here now (answers have-queries; no I/O beyond an index lookup). */
  boolean has(BlockName name);

  /**
   * Stored bytes of {@code name} for a peer, or empty when this node does not serve it. May block (cache
   * read, or a fetch-through load); runs on an upload thread, never on an I/O thread. Calls {@code loading}
   * (at most once) just before it starts loading a block it does not hold, so the requester can be told to
   * wait for it.
   */
  Optional<byte[]> serve(BlockName name, Runnable loading) throws IOException;
}
