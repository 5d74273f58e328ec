package org.oscircular.node.discovery;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.oscircular.node.p2p.Host;
import org.oscircular.protocol.mdns.MdnsException;
import org.oscircular.protocol.mdns.MdnsPacket;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/**
 * libp2p mDNS discovery (libp2p/specs discovery/mdns.md) on 224.0.0.251:5353: asks for {@value MdnsPacket#SERVICE}
 * every interval, answers such queries with our listen addresses as {@code dnsaddr=} TXT strings, and dials every
 * peer it hears of. Private and loopback addresses are announced and used: this is for the LAN.
 */
public final class MdnsDiscovery implements AutoCloseable {
    public static final int PORT = 5353;
    private static final System.Logger LOG = System.getLogger(MdnsDiscovery.class.getName());
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    private final Host host;
    private final Duration interval;
    private final ScheduledExecutorService timers;
    private final String peerName;
    private final InetAddress group;
    private MulticastSocket socket;
    private ScheduledFuture<?> queries;
    private final java.util.Set<PeerId> dialing = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    public MdnsDiscovery(Host host, Duration interval, ScheduledExecutorService timers, RandomGenerator random) {
        this.host = host;
        this.interval = interval;
        this.timers = timers;
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < 63; i++) name.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        this.peerName = name.toString();
        try {
            this.group = InetAddress.getByAddress(new byte[] {(byte) 224, 0, 0, (byte) 251});
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Binds port 5353 (shared), joins the group on every multicast interface, starts querying and answering. */
    public void start() throws IOException {
        socket = new MulticastSocket(null);
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(PORT));
        socket.setTimeToLive(255);
        socket.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
        int joined = 0;
        for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
            try {
                if (nif.isUp() && nif.supportsMulticast() && nif.inetAddresses().anyMatch(a -> a.getAddress().length == 4)) {
                    socket.joinGroup(new InetSocketAddress(group, 0), nif);
                    joined++;
                }
            } catch (SocketException e) {
                LOG.log(System.Logger.Level.DEBUG, "mdns: cannot join on " + nif.getName() + ": " + e.getMessage());
            }
        }
        if (joined == 0) throw new IOException("mdns: no interface to join 224.0.0.251 on");
        Thread.ofPlatform().daemon().name("circular-mdns").start(this::receive);
        queries = timers.scheduleWithFixedDelay(() -> send(MdnsPacket.query()), 0, interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void send(byte[] packet) {
        try {
            socket.send(new DatagramPacket(packet, packet.length, group, PORT));
        } catch (IOException e) {
            if (!closed) LOG.log(System.Logger.Level.DEBUG, "mdns: send failed: " + e.getMessage());
        }
    }

    private void receive() {
        byte[] buffer = new byte[9000];
        while (!closed) {
            DatagramPacket p = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(p);
            } catch (IOException e) {
                if (!closed) LOG.log(System.Logger.Level.WARNING, "mdns: receive failed: " + e.getMessage());
                return;
            }
            MdnsPacket packet;
            try {
                packet = MdnsPacket.parse(Arrays.copyOf(p.getData(), p.getLength()));
            } catch (MdnsException e) {
                LOG.log(System.Logger.Level.DEBUG, "mdns: ignoring a packet from " + p.getAddress() + ": " + e.getMessage());
                continue;
            }
            if (packet.asksForService() && !packet.response()) answer();
            if (packet.response()) dialAll(packet.dnsaddrs());
        }
    }

    /** Answers with the addresses other hosts can dial: no wildcard, loopback or link-local ones. */
    private void answer() {
        List<String> addrs = new ArrayList<>();
        for (Multiaddr a : host.listenAddresses()) {
            if (reachableFromLan(a)) addrs.add(a.withPeerId(host.peerId()).toString());
        }
        if (!addrs.isEmpty()) send(MdnsPacket.response(peerName, addrs));
    }

    static boolean reachableFromLan(Multiaddr a) {
        if (a.components().isEmpty()) return false;
        Multiaddr.Component first = a.components().getFirst();
        if (first.protocol() != Multiaddr.Protocol.IP4 && first.protocol() != Multiaddr.Protocol.IP6) return false;
        try {
            InetAddress ip = InetAddress.getByAddress(first.value());
            return !ip.isLoopbackAddress() && !ip.isAnyLocalAddress() && !ip.isLinkLocalAddress();
        } catch (IOException e) {
            return false;
        }
    }

    private void dialAll(List<String> dnsaddrs) {
        for (String text : dnsaddrs) {
            Multiaddr a;
            try {
                a = Multiaddr.parse(text);
            } catch (RuntimeException e) {
                continue;
            }
            PeerId id = a.peerId().orElse(null);
            if (!reachableFromLan(a)) continue;
            if (id == null || id.equals(host.peerId()) || !host.connections(id).isEmpty() || !dialing.add(id)) {
                continue;
            }
            host.dial(a).whenComplete((c, e) -> {
                dialing.remove(id);
                if (e != null) LOG.log(System.Logger.Level.DEBUG, "mdns: dialling " + a + " failed: " + e.getMessage());
                else LOG.log(System.Logger.Level.INFO, "mdns: connected to " + id + " at " + a);
            });
        }
    }

    @Override
    public void close() {
        closed = true;
        if (queries != null) queries.cancel(false);
        if (socket != null) socket.close();
    }
}
