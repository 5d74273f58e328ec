package org.oscircular.protocol.kad;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The DHT key of a block: the multihash of its SHA-1 name ({@code 0x11 0x14 <20-byte digest>}, 22 bytes), which is
 * what ADD_PROVIDER and GET_PROVIDERS carry. As text it is shown as a CIDv1 with the raw codec
 * ({@code 0x01 0x55 0x11 0x14 <digest>}) in multibase base32 lower case, 40 characters starting with {@code bafkrcf}.
 */
public record BlockKey(byte[] sha1) {

    static final int SHA1_CODE = 0x11;
    static final int SHA1_LENGTH = 20;
    static final int CID_V1 = 0x01;
    static final int RAW_CODEC = 0x55;
    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    public BlockKey {
        if (sha1.length != SHA1_LENGTH) {
            throw new IllegalArgumentException("a SHA-1 block name is 20 bytes, got " + sha1.length);
        }
        sha1 = sha1.clone();
    }

    @Override
    public byte[] sha1() {
        return sha1.clone();
    }

    /** The 22-byte sha1 multihash: the key bytes of provider records. */
    public byte[] multihash() {
        byte[] mh = new byte[2 + SHA1_LENGTH];
        mh[0] = SHA1_CODE;
        mh[1] = SHA1_LENGTH;
        System.arraycopy(sha1, 0, mh, 2, SHA1_LENGTH);
        return mh;
    }

    /** The position of this block's provider records in the keyspace: {@code sha256(multihash)}. */
    public KadKey kadKey() {
        return KadKey.of(multihash());
    }

    /** CIDv1 raw in base32 ({@code bafkrcf...}). */
    public String cid() {
        byte[] mh = multihash();
        byte[] cid = new byte[2 + mh.length];
        cid[0] = CID_V1;
        cid[1] = RAW_CODEC;
        System.arraycopy(mh, 0, cid, 2, mh.length);
        return "b" + base32(cid);
    }

    /** Lower-case hex of the SHA-1, the form block names have elsewhere in the project. */
    public String hex() {
        return HexFormat.of().formatHex(sha1);
    }

    /**
     * Parses a block key from any of its text forms: 40 hex digits (the SHA-1), a CIDv1 raw sha1 in base32, or the
     * hex of the 22-byte multihash.
     *
     * @throws IllegalArgumentException with a one-line reason when the text is none of these
     */
    public static BlockKey parse(String text) {
        String t = text.strip();
        if (t.length() == 40 && isHex(t)) {
            return new BlockKey(HexFormat.of().parseHex(t));
        }
        if (t.length() == 44 && isHex(t)) {
            return fromMultihash(HexFormat.of().parseHex(t));
        }
        if (t.startsWith("b") && t.length() > 1) {
            byte[] cid = unbase32(t.substring(1));
            if (cid.length != 24 || cid[0] != CID_V1 || (cid[1] & 0xFF) != RAW_CODEC) {
                throw new IllegalArgumentException("not a CIDv1 raw sha1 block key: " + text);
            }
            return fromMultihash(Arrays.copyOfRange(cid, 2, cid.length));
        }
        throw new IllegalArgumentException(
                "a block key is 40 hex digits (SHA-1), a CIDv1 raw sha1 (bafkrcf...) or a sha1 multihash, got: " + text);
    }

    /** The block key inside a 22-byte sha1 multihash (as found in a provider record key). */
    public static BlockKey fromMultihash(byte[] multihash) {
        if (multihash.length != 2 + SHA1_LENGTH || multihash[0] != SHA1_CODE || multihash[1] != SHA1_LENGTH) {
            throw new IllegalArgumentException("not a sha1 multihash (0x11 0x14 + 20 bytes): "
                    + HexFormat.of().formatHex(multihash));
        }
        return new BlockKey(Arrays.copyOfRange(multihash, 2, multihash.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockKey other && Arrays.equals(sha1, other.sha1);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sha1);
    }

    @Override
    public String toString() {
        return cid();
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.digit(s.charAt(i), 16) < 0) return false;
        }
        return true;
    }

    /** RFC 4648 base32, lower case, no padding. */
    static String base32(byte[] data) {
        StringBuilder out = new StringBuilder((data.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xFF);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[(buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) out.append(BASE32[(buffer << (5 - bits)) & 31]);
        return out.toString();
    }

    static byte[] unbase32(String text) {
        String s = text.toLowerCase(Locale.ROOT);
        byte[] out = new byte[s.length() * 5 / 8];
        int buffer = 0;
        int bits = 0;
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int v = c >= 'a' && c <= 'z' ? c - 'a' : c >= '2' && c <= '7' ? c - '2' + 26 : -1;
            if (v < 0) throw new IllegalArgumentException("not base32: '" + c + "' in " + text);
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8) {
                out[n++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        return out;
    }
}
