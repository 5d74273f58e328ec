package org.oscircular.protocol.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RendezvousTest {
    private static final Function<byte[], byte[]> ID = b -> b;

    private static List<byte[]> peers(int n, long seed) {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] id = new byte[38];
            r.nextBytes(id);
            out.add(id);
        }
        return out;
    }

    private static byte[] block(int i) {
        return ByteBuffer.allocate(20).putInt(16, i).array();
    }

    @Test
    void theWeightIsTheFirstEightBytesOfTheSha256OfIdThenName() throws Exception {
        byte[] id = {1, 2, 3};
        byte[] name = {4, 5};
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(new byte[] {1, 2, 3, 4, 5});
        assertEquals(ByteBuffer.wrap(digest).getLong(), Rendezvous.weight(id, name));
    }

    @Property(tries = 50)
    void everyOrderOfTheSamePeersDesignatesTheSamePeer(@ForAll long seed, @ForAll @IntRange(min = 1, max = 30) int n,
            @ForAll int block) {
        List<byte[]> peers = peers(n, seed);
        byte[] chosen = Rendezvous.designated(peers, ID, block(block));
        List<byte[]> shuffled = new ArrayList<>(peers);
        Collections.shuffle(shuffled, new Random(seed + 1));
        assertTrue(chosen == Rendezvous.designated(shuffled, ID, block(block)));
    }

    @Property(tries = 50)
    void aPeerLeavingMovesOnlyTheBlocksItWasDesignatedFor(@ForAll long seed,
            @ForAll @IntRange(min = 2, max = 20) int n) {
        List<byte[]> peers = peers(n, seed);
        byte[] leaving = peers.get(0);
        List<byte[]> rest = peers.subList(1, n);
        for (int b = 0; b < 200; b++) {
            byte[] before = Rendezvous.designated(peers, ID, block(b));
            if (before != leaving) {
                assertTrue(before == Rendezvous.designated(rest, ID, block(b)), "block " + b + " moved");
            }
        }
    }

    @Test
    void spreadsBlocksEvenlyOverTheLab() {
        List<byte[]> peers = peers(10, 7);
        int[] counts = new int[peers.size()];
        for (int b = 0; b < 10_000; b++) {
            counts[peers.indexOf(Rendezvous.designated(peers, ID, block(b)))]++;
        }
        for (int c : counts) {
            assertTrue(c > 850 && c < 1150, "uneven: " + java.util.Arrays.toString(counts));
        }
    }
}
