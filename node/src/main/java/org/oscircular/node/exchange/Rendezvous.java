package org.oscircular.node.exchange;

import java.nio.ByteBuffer;
import java.util.Collection;
import org.oscircular.protocol.format.BlockName;
import org.oscircular.protocol.format.Digests;
import org.oscircular.protocol.p2p.PeerId;

/**
 * Rendezvous (highest-random-weight) hashing of blocks onto LAN peers: every node that sees the same set
 * of peers picks the same designated fetcher for a block, so a lab fetches each block from the origin
 * once — through its designated peer — however many machines read it.
 */
final class Rendezvous {
  private Rendezvous() {}

  static long weight(PeerId peer, BlockName block) {
    byte[] id = peer.toBytes();
    byte[] name = block.sha1();
    byte[] both = new byte[id.length + name.length];
    System.arraycopy(id, 0, both, 0, id.length);
    System.arraycopy(name, 0, both, id.length, name.length);
    return ByteBuffer.wrap(Digests.sha256(both)).getLong();
  }

  /** The designated peer for {@code block} among {@code candidates} (which must not be empty). */
  static PeerId designated(Collection<PeerId> candidates, BlockName block) {
    PeerId best = null;
    long bestWeight = 0;
    for (PeerId p : candidates) {
      long w = weight(p, block);
      if (best == null || Long.compareUnsigned(w, bestWeight) > 0
          || (w == bestWeight && p.compareTo(best) < 0)) {
        best = p;
        bestWeight = w;
      }
    }
    return best;
  }
}
