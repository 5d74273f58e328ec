package org.oscircular.node.daemon;

import java.io.IOException;
import java.util.Optional;
import org.oscircular.node.exchange.BlockProvider;
import org.oscircular.protocol.format.BlockName;

/** Serves what {@code honest} serves with one byte in the middle flipped: blocks that never verify. */
record CorruptingBlockProvider(BlockProvider honest) implements BlockProvider {
  @Override
  public boolean has(BlockName name) {
    return honest.has(name);
  }

  @Override
  public Optional<byte[]> serve(BlockName name, Runnable loading) throws IOException {
    return honest.serve(name, loading).map(data -> {
      byte[] bad = data.clone();
      bad[bad.length / 2] ^= 0x5A;
      return bad;
    });
  }
}
