package org.oscircular.node.fetch;

import java.io.IOException;
import org.oscircular.protocol.format.BlockName;

/** No origin delivered a block that verifies; the message lists what each origin did. */
public final class BlockFetchException extends IOException {
  private final BlockName block;

  public BlockFetchException(BlockName block, String message) {
    super(message);
    this.block = block;
  }

  public BlockName block() {
    return block;
  }
}
