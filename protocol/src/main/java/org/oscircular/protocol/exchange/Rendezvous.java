package org.oscircular.protocol.exchange;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Rendezvous (highest-random-weight) hashing of blocks onto LAN peers: every node that sees the same set of peers
 * picks the same <em>designated</em> fetcher for a block, so a lab fetches each block beyond its LAN once, through
 * its designated peer, however many machines read it. When a peer joins or leaves, only the blocks it is (or
 * becomes) designated for move.
 *
 * <p>The weight of a peer for a block is the first eight bytes, big-endian and compared unsigned, of
 * SHA-256(peer id bytes ‖ block name bytes); the node uses libp2p peer ids and the blocks' SHA-1 names, the
 * simulator synthetic 8-byte ids and SHA-1 names. Equal weights go to the peer whose id bytes are smaller
 * (unsigned). The node and the simulator both call this class.
 */
public final class Rendezvous {
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    });

    private Rendezvous() {}

    /** The weight of the peer with id bytes {@code peerId} for the block named {@code blockName}. */
    public static long weight(byte[] peerId, byte[] blockName) {
        MessageDigest sha = SHA256.get();
        sha.update(peerId);
        byte[] d = sha.digest(blockName);
        long w = 0;
        for (int i = 0; i < 8; i++) {
            w = w << 8 | (d[i] & 0xFF);
        }
        return w;
    }

    /**
     * The designated peer for {@code blockName} among {@code candidates} (which must not be empty), each known by
     * the bytes {@code idBytes} returns for it.
     */
    public static <P> P designated(Iterable<P> candidates, Function<? super P, byte[]> idBytes, byte[] blockName) {
        P best = null;
        byte[] bestId = null;
        long bestWeight = 0;
        for (P p : candidates) {
            byte[] id = idBytes.apply(p);
            long w = weight(id, blockName);
            int order = best == null ? 1 : Long.compareUnsigned(w, bestWeight);
            if (order > 0 || order == 0 && Arrays.compareUnsigned(id, bestId) < 0) {
                best = p;
                bestId = id;
                bestWeight = w;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("no candidates to designate a peer from");
        }
        return best;
    }
}
