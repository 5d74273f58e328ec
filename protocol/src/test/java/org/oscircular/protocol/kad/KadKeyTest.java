package org.oscircular.protocol.kad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class KadKeyTest {

    private static BigInteger big(KadKey k) {
        return new BigInteger(1, k.toBytes());
    }

    @Test
    void keyOfBytesIsTheirSha256() {
        // sha256("abc") from FIPS 180-2
        KadKey k = KadKey.of("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", k.toString());
    }

    @Property
    void bytesRoundTrip(@ForAll @Size(32) byte[] digest) {
        assertEquals(HexFormat.of().formatHex(digest), KadKey.ofDigest(digest).toString());
    }

    @Property
    void distanceComparisonMatchesBigIntegerXor(@ForAll @Size(32) byte[] t, @ForAll @Size(32) byte[] a,
                                                @ForAll @Size(32) byte[] b) {
        KadKey target = KadKey.ofDigest(t);
        KadKey ka = KadKey.ofDigest(a);
        KadKey kb = KadKey.ofDigest(b);
        int expected = big(target).xor(big(ka)).compareTo(big(target).xor(big(kb)));
        assertEquals(Integer.signum(expected), Integer.signum(target.compareDistance(ka, kb)));
        assertEquals(big(target).xor(big(ka)), big(target.xor(ka)));
    }

    @Property
    void commonPrefixLengthAndBitLengthAgree(@ForAll @Size(32) byte[] a, @ForAll @Size(32) byte[] b) {
        KadKey ka = KadKey.ofDigest(a);
        KadKey kb = KadKey.ofDigest(b);
        assertEquals(256 - big(ka.xor(kb)).bitLength(), ka.commonPrefixLength(kb));
        assertEquals(big(ka).bitLength(), ka.bitLength());
    }

    @Property
    void lowMaskHasExactlyTheLowBitsSet(@ForAll @IntRange(min = 0, max = 256) int bits) {
        assertEquals(BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE), big(KadKey.lowMask(bits)));
    }

    @Property
    void subtreeWithinMatchesBigIntegerArithmetic(@ForAll @Size(32) byte[] c, @ForAll @Size(32) byte[] p,
                                                  @ForAll @IntRange(min = 0, max = 256) int bits,
                                                  @ForAll @Size(32) byte[] limit) {
        KadKey center = KadKey.ofDigest(c);
        KadKey prefix = KadKey.ofDigest(p);
        KadKey radius = KadKey.ofDigest(limit);
        BigInteger far = big(center).xor(big(prefix)).or(big(KadKey.lowMask(bits)));
        assertEquals(far.compareTo(big(radius)) <= 0, center.subtreeWithin(prefix, KadKey.lowMask(bits), radius));
        assertTrue(center.subtreeWithin(center, KadKey.lowMask(bits), KadKey.lowMask(bits)));
    }

    @Property
    void refreshTargetsFallIntoTheirBucket(@ForAll @Size(32) byte[] self, @ForAll @IntRange(max = 255) int cpl,
                                           @ForAll long seed) {
        KadKey k = KadKey.ofDigest(self);
        KadKey r = k.randomWithCommonPrefix(cpl, new SplittableRandom(seed));
        assertEquals(cpl, k.commonPrefixLength(r));
    }

    @Test
    void bitZeroIsTheMostSignificant() {
        KadKey k = new KadKey(Long.MIN_VALUE, 0, 0, 1);
        assertTrue(k.bit(0));
        assertTrue(k.bit(255));
        assertEquals(false, k.bit(1));
        assertThrows(IllegalArgumentException.class, () -> k.bit(256));
    }

    @Test
    void rejectsDigestsThatAreNot32Bytes() {
        var e = assertThrows(IllegalArgumentException.class, () -> KadKey.ofDigest(new byte[20]));
        assertEquals("a kad key digest is 32 bytes, got 20", e.getMessage());
    }
}
