package org.oscircular.protocol.kad;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * A position in the 256-bit Kademlia keyspace: {@code sha256(key bytes)} as libp2p kad-dht specifies, where the key
 * bytes are a peer id multihash (for a peer) or a content multihash (for a provider record).
 *
 * <p>Four longs, most significant first, so a key costs 48 bytes on the heap and comparing distances allocates
 * nothing. The XOR of two keys is their distance; distances compare as unsigned 256-bit integers.
 */
public record KadKey(long w0, long w1, long w2, long w3) implements Comparable<KadKey> {

    /** Number of bits in the keyspace. */
    public static final int BITS = 256;

    /** The all-zero key (also the zero distance). */
    public static final KadKey ZERO = new KadKey(0, 0, 0, 0);

    /** The largest distance: all bits set. */
    public static final KadKey MAX = new KadKey(-1L, -1L, -1L, -1L);

    /** The kad key of arbitrary key bytes: {@code sha256(bytes)}. */
    public static KadKey of(byte[] keyBytes) {
        return ofDigest(sha256().digest(keyBytes));
    }

    /** Wraps an existing 32-byte SHA-256 digest without hashing it again. */
    public static KadKey ofDigest(byte[] digest) {
        if (digest.length != 32) {
            throw new IllegalArgumentException("a kad key digest is 32 bytes, got " + digest.length);
        }
        return new KadKey(readLong(digest, 0), readLong(digest, 8), readLong(digest, 16), readLong(digest, 24));
    }

    /** A uniformly random key (the simulator's compact node ids, refresh targets). */
    public static KadKey random(RandomGenerator random) {
        return new KadKey(random.nextLong(), random.nextLong(), random.nextLong(), random.nextLong());
    }

    /** The 32 bytes of this key, big-endian. */
    public byte[] toBytes() {
        byte[] out = new byte[32];
        writeLong(out, 0, w0);
        writeLong(out, 8, w1);
        writeLong(out, 16, w2);
        writeLong(out, 24, w3);
        return out;
    }

    /** The XOR distance to another key. */
    public KadKey xor(KadKey other) {
        return new KadKey(w0 ^ other.w0, w1 ^ other.w1, w2 ^ other.w2, w3 ^ other.w3);
    }

    public KadKey or(KadKey other) {
        return new KadKey(w0 | other.w0, w1 | other.w1, w2 | other.w2, w3 | other.w3);
    }

    /**
     * Compares the distances of {@code a} and {@code b} to this key without allocating: negative when {@code a} is
     * closer, zero when equally far (only when {@code a} and {@code b} are the same key), positive otherwise.
     */
    public int compareDistance(KadKey a, KadKey b) {
        int c = Long.compareUnsigned(a.w0 ^ w0, b.w0 ^ w0);
        if (c != 0) return c;
        c = Long.compareUnsigned(a.w1 ^ w1, b.w1 ^ w1);
        if (c != 0) return c;
        c = Long.compareUnsigned(a.w2 ^ w2, b.w2 ^ w2);
        if (c != 0) return c;
        return Long.compareUnsigned(a.w3 ^ w3, b.w3 ^ w3);
    }

    /** Unsigned comparison of the 256-bit values (keys sort along the keyspace; distances sort by closeness). */
    @Override
    public int compareTo(KadKey o) {
        int c = Long.compareUnsigned(w0, o.w0);
        if (c != 0) return c;
        c = Long.compareUnsigned(w1, o.w1);
        if (c != 0) return c;
        c = Long.compareUnsigned(w2, o.w2);
        if (c != 0) return c;
        return Long.compareUnsigned(w3, o.w3);
    }

    /** Number of leading bits this key shares with {@code other} (256 when equal); the k-bucket index. */
    public int commonPrefixLength(KadKey other) {
        long x = w0 ^ other.w0;
        if (x != 0) return Long.numberOfLeadingZeros(x);
        x = w1 ^ other.w1;
        if (x != 0) return 64 + Long.numberOfLeadingZeros(x);
        x = w2 ^ other.w2;
        if (x != 0) return 128 + Long.numberOfLeadingZeros(x);
        x = w3 ^ other.w3;
        if (x != 0) return 192 + Long.numberOfLeadingZeros(x);
        return BITS;
    }

    /** Index of the highest set bit plus one (0 for zero): the bit length of a distance. */
    public int bitLength() {
        if (w0 != 0) return 256 - Long.numberOfLeadingZeros(w0);
        if (w1 != 0) return 192 - Long.numberOfLeadingZeros(w1);
        if (w2 != 0) return 128 - Long.numberOfLeadingZeros(w2);
        if (w3 != 0) return 64 - Long.numberOfLeadingZeros(w3);
        return 0;
    }

    private static final KadKey[] LOW_MASKS = new KadKey[BITS + 1];

    static {
        for (int bits = 0; bits <= BITS; bits++) {
            LOW_MASKS[bits] = new KadKey(maskWord(bits - 192), maskWord(bits - 128), maskWord(bits - 64),
                    maskWord(bits));
        }
    }

    /** The value with the low {@code bits} bits set: {@code 2^bits - 1} (shared instances, no allocation). */
    public static KadKey lowMask(int bits) {
        if (bits < 0 || bits > BITS) throw new IllegalArgumentException("bits must be 0..256, got " + bits);
        return LOW_MASKS[bits];
    }

    /** This key with its low {@code bits} bits cleared: the prefix of the subtree of depth {@code 256 - bits}. */
    public KadKey clearLowBits(int bits) {
        KadKey m = lowMask(bits);
        return new KadKey(w0 & ~m.w0, w1 & ~m.w1, w2 & ~m.w2, w3 & ~m.w3);
    }

    /**
     * Whether {@code (this xor other) | mask <= limit} as unsigned 256-bit values, without allocating: with
     * {@code mask} the low bits below a subtree's prefix, whether the whole subtree lies within distance
     * {@code limit} of this key.
     */
    public boolean subtreeWithin(KadKey other, KadKey mask, KadKey limit) {
        int c = Long.compareUnsigned((w0 ^ other.w0) | mask.w0, limit.w0);
        if (c != 0) return c < 0;
        c = Long.compareUnsigned((w1 ^ other.w1) | mask.w1, limit.w1);
        if (c != 0) return c < 0;
        c = Long.compareUnsigned((w2 ^ other.w2) | mask.w2, limit.w2);
        if (c != 0) return c < 0;
        return Long.compareUnsigned((w3 ^ other.w3) | mask.w3, limit.w3) <= 0;
    }

    private static long maskWord(int bits) {
        if (bits <= 0) return 0;
        if (bits >= 64) return -1L;
        return (1L << bits) - 1;
    }

    /** The bit at position {@code index}, 0 being the most significant. */
    public boolean bit(int index) {
        long word = switch (index >>> 6) {
            case 0 -> w0;
            case 1 -> w1;
            case 2 -> w2;
            case 3 -> w3;
            default -> throw new IllegalArgumentException("bit index must be 0..255, got " + index);
        };
        return (word << (index & 63)) < 0;
    }

    /**
     * A random key that shares exactly {@code prefixLength} leading bits with this key (the next bit differs):
     * the target of a refresh lookup for bucket {@code prefixLength}.
     */
    public KadKey randomWithCommonPrefix(int prefixLength, RandomGenerator random) {
        if (prefixLength < 0 || prefixLength >= BITS) {
            throw new IllegalArgumentException("prefix length must be 0..255, got " + prefixLength);
        }
        KadKey r = random(random);
        KadKey keep = lowMask(BITS - prefixLength).xor(MAX); // high prefixLength bits
        KadKey flip = lowMask(BITS - prefixLength - 1).xor(lowMask(BITS - prefixLength)); // the bit after the prefix
        KadKey rest = lowMask(BITS - prefixLength - 1);
        return new KadKey(
                (w0 & keep.w0) | ((~w0) & flip.w0) | (r.w0 & rest.w0),
                (w1 & keep.w1) | ((~w1) & flip.w1) | (r.w1 & rest.w1),
                (w2 & keep.w2) | ((~w2) & flip.w2) | (r.w2 & rest.w2),
                (w3 & keep.w3) | ((~w3) & flip.w3) | (r.w3 & rest.w3));
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(toBytes());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static long readLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (b[off + i] & 0xFF);
        return v;
    }

    private static void writeLong(byte[] b, int off, long v) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }
}
