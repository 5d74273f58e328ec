package org.oscircular.protocol.mdns;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The subset of DNS (RFC 1035, RFC 6762) that libp2p mDNS discovery uses (libp2p/specs discovery/mdns.md): a PTR
 * query for {@value #SERVICE}, and responses whose TXT records carry {@code dnsaddr=<multiaddr>} strings.
 *
 * <p>{@link #parse} reads any DNS message defensively (name compression with a jump limit, every length checked)
 * and keeps only what discovery needs: whether it is a response, whether it asks for the service, and the dnsaddr
 * strings found in TXT records of the answer and additional sections. Malformed input is an
 * {@link MdnsException} with a one-line reason.
 */
public record MdnsPacket(boolean response, boolean asksForService, List<String> dnsaddrs) {

    public static final String SERVICE = "_p2p._udp.local";
    public static final int TYPE_PTR = 12;
    public static final int TYPE_TXT = 16;
    public static final int CLASS_IN = 1;
    /** Record TTL we announce (js and go use 120 s). */
    public static final int TTL_SECONDS = 120;
    private static final String DNSADDR = "dnsaddr=";
    private static final int MAX_JUMPS = 16;
    private static final int MAX_RECORDS = 256;

    public MdnsPacket {
        dnsaddrs = List.copyOf(dnsaddrs);
    }

    /** A query for the libp2p service: one PTR question. */
    public static byte[] query() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        header(out, 0, 1, 0);
        name(out, SERVICE);
        u16(out, TYPE_PTR);
        u16(out, CLASS_IN);
        return out.toByteArray();
    }

    /**
     * A response announcing {@code peerName} (32–63 random lower-case letters and digits, per the spec) with one
     * TXT string per address, each {@code dnsaddr=<multiaddr with /p2p/id>}. PTR and TXT both go in the answer
     * section, which js and go read.
     */
    public static byte[] response(String peerName, List<String> multiaddrs) {
        if (!peerName.matches("[a-z0-9]{1,63}")) {
            throw new IllegalArgumentException("an mDNS peer name is 1..63 lower-case letters and digits, got " + peerName);
        }
        String instance = peerName + "." + SERVICE;
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        header(out, 0x8400, 0, 2);
        name(out, SERVICE);
        u16(out, TYPE_PTR);
        u16(out, CLASS_IN);
        u32(out, TTL_SECONDS);
        ByteArrayOutputStream ptr = new ByteArrayOutputStream();
        name(ptr, instance);
        u16(out, ptr.size());
        out.writeBytes(ptr.toByteArray());
        name(out, instance);
        u16(out, TYPE_TXT);
        u16(out, CLASS_IN);
        u32(out, TTL_SECONDS);
        ByteArrayOutputStream txt = new ByteArrayOutputStream();
        for (String a : multiaddrs) {
            byte[] s = (DNSADDR + a).getBytes(StandardCharsets.UTF_8);
            if (s.length > 255) throw new IllegalArgumentException("address too long for a TXT string: " + a);
            txt.write(s.length);
            txt.writeBytes(s);
        }
        u16(out, txt.size());
        out.writeBytes(txt.toByteArray());
        return out.toByteArray();
    }

    public static MdnsPacket parse(byte[] packet) throws MdnsException {
        Reader r = new Reader(packet);
        r.need(12, "header");
        r.u16(); // id
        int flags = r.u16();
        int questions = r.u16();
        int answers = r.u16();
        int authorities = r.u16();
        int additionals = r.u16();
        if (questions + answers + authorities + additionals > MAX_RECORDS) {
            throw new MdnsException("mDNS packet claims " + (questions + answers + authorities + additionals)
                    + " records, more than " + MAX_RECORDS);
        }
        boolean asks = false;
        for (int i = 0; i < questions; i++) {
            String name = r.name();
            r.need(4, "question");
            int type = r.u16();
            r.u16(); // class (with the unicast-response bit)
            if (type == TYPE_PTR && name.equals(SERVICE)) asks = true;
        }
        List<String> addrs = new ArrayList<>();
        for (int i = 0; i < answers + authorities + additionals; i++) {
            r.name();
            r.need(10, "record header");
            int type = r.u16();
            r.u16(); // class
            r.u32(); // ttl
            int length = r.u16();
            r.need(length, "record data");
            int end = r.pos + length;
            if (type == TYPE_TXT && i < answers || type == TYPE_TXT && i >= answers + authorities) {
                while (r.pos < end) {
                    int n = r.u8();
                    if (r.pos + n > end) throw new MdnsException("TXT string runs past its record");
                    String s = new String(packet, r.pos, n, StandardCharsets.UTF_8);
                    r.pos += n;
                    if (s.startsWith(DNSADDR)) addrs.add(s.substring(DNSADDR.length()));
                }
            }
            r.pos = end;
        }
        return new MdnsPacket((flags & 0x8000) != 0, asks, addrs);
    }

    private static void header(ByteArrayOutputStream out, int flags, int questions, int answers) {
        u16(out, 0);
        u16(out, flags);
        u16(out, questions);
        u16(out, answers);
        u16(out, 0);
        u16(out, 0);
    }

    private static void name(ByteArrayOutputStream out, String name) {
        for (String label : name.split("\\.")) {
            byte[] b = label.getBytes(StandardCharsets.UTF_8);
            out.write(b.length);
            out.writeBytes(b);
        }
        out.write(0);
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v);
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        u16(out, v >>> 16);
        u16(out, v & 0xFFFF);
    }

    private static final class Reader {
        final byte[] b;
        int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        void need(int n, String what) throws MdnsException {
            if (n < 0 || pos + n > b.length) throw new MdnsException("mDNS packet ends inside a " + what);
        }

        int u8() throws MdnsException {
            need(1, "string length");
            return b[pos++] & 0xFF;
        }

        int u16() {
            int v = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
            return v;
        }

        long u32() {
            long v = ((long) u16() << 16) | u16();
            return v;
        }

        /** A domain name, following compression pointers (at most {@value #MAX_JUMPS}), lower-cased. */
        String name() throws MdnsException {
            StringBuilder out = new StringBuilder();
            int p = pos;
            int jumps = 0;
            boolean jumped = false;
            while (true) {
                if (p >= b.length) throw new MdnsException("mDNS packet ends inside a name");
                int len = b[p] & 0xFF;
                if (len == 0) {
                    p++;
                    break;
                }
                if ((len & 0xC0) == 0xC0) {
                    if (p + 1 >= b.length) throw new MdnsException("mDNS packet ends inside a name pointer");
                    if (++jumps > MAX_JUMPS) throw new MdnsException("mDNS name has too many compression pointers");
                    int target = ((len & 0x3F) << 8) | (b[p + 1] & 0xFF);
                    if (!jumped) pos = p + 2;
                    jumped = true;
                    p = target;
                    continue;
                }
                if ((len & 0xC0) != 0) throw new MdnsException("mDNS name has a reserved label type");
                if (p + 1 + len > b.length) throw new MdnsException("mDNS packet ends inside a label");
                if (out.length() > 0) out.append('.');
                out.append(new String(b, p + 1, len, StandardCharsets.UTF_8));
                if (out.length() > 255) throw new MdnsException("mDNS name longer than 255 characters");
                p += 1 + len;
            }
            if (!jumped) pos = p;
            return out.toString().toLowerCase(Locale.ROOT);
        }
    }
}
