package org.oscircular.node.kad;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.oscircular.node.p2p.Connection;
import org.oscircular.node.p2p.Host;
import org.oscircular.node.p2p.P2pStream;
import org.oscircular.node.p2p.PeerStore;
import org.oscircular.node.p2p.StreamListener;
import org.oscircular.protocol.kad.AnnounceAction;
import org.oscircular.protocol.kad.AnnounceReport;
import org.oscircular.protocol.kad.AnnounceScheduler;
import org.oscircular.protocol.kad.BlockKey;
import org.oscircular.protocol.kad.KadCodec;
import org.oscircular.protocol.kad.KadConfig;
import org.oscircular.protocol.kad.KadKey;
import org.oscircular.protocol.kad.KadMessage;
import org.oscircular.protocol.kad.KadMessageException;
import org.oscircular.protocol.kad.KadServer;
import org.oscircular.protocol.kad.Lookup;
import org.oscircular.protocol.kad.LookupAction;
import org.oscircular.protocol.kad.LookupResult;
import org.oscircular.protocol.kad.RoutingTable;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multihash;
import org.oscircular.protocol.p2p.PeerId;

/**
 * The DHT on a libp2p {@link Host}: drives the sans-I/O kad core ({@link RoutingTable}, {@link Lookup},
 * {@link KadServer}, {@link AnnounceScheduler}) with real streams on {@value #PROTOCOL_ID} and real time.
 *
 * <p>All core state is confined to one injected single-threaded {@link ScheduledExecutorService}; network
 * callbacks hop onto it. In server mode the node registers the protocol (so identify advertises it) and answers
 * FIND_NODE, GET_PROVIDERS and ADD_PROVIDER; in client mode it only queries. A peer enters the routing table only
 * when identify shows it serves the protocol (server mode), or when it answered one of our queries.
 */
public final class DhtNode implements AutoCloseable {
    public static final String PROTOCOL_ID = "/circular/kad/1.0.0";
    private static final int REFRESH_TRIES = 1 << 16;
    /**
     * Identify agents of implementations that read the multi-key ADD_PROVIDER extension ({@code additionalKeys}):
     * ours. Everyone else gets standard one-key messages.
     */
    static final String MULTI_KEY_AGENT_PREFIX = "circular/";
    private static final System.Logger LOG = System.getLogger(DhtNode.class.getName());

    private final Host host;
    private final KadConfig config;
    private final boolean serverMode;
    private final ScheduledExecutorService executor;
    private final LongSupplier clock;
    private final RandomGenerator random;
    private final KadServer<KadContact> server;
    private long nextLookupId;

    /**
     * @param executor single-threaded; owns all DHT state (the caller shuts it down after {@link #close})
     * @param clock    milliseconds, e.g. {@code System::currentTimeMillis}
     */
    public DhtNode(Host host, KadConfig config, boolean serverMode, ScheduledExecutorService executor,
                   LongSupplier clock, RandomGenerator random) {
        this.host = host;
        this.config = config;
        this.serverMode = serverMode;
        this.executor = executor;
        this.clock = clock;
        this.random = random;
        this.server = new KadServer<>(new KadContact(host.peerId(), List.of()), config);
    }

    /** Registers the protocol (server mode), watches connections for DHT servers and schedules maintenance. */
    public void start() {
        if (serverMode) host.registerHandler(PROTOCOL_ID, this::serve);
        host.onConnection(this::watch);
        executor.scheduleWithFixedDelay(this::maintain, config.refreshIntervalMillis(),
                config.refreshIntervalMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean serverMode() {
        return serverMode;
    }

    /** Dials the bootstrap peers, waits for identify, then looks up our own key to fill the table. */
    public CompletableFuture<LookupResult<KadContact>> bootstrap(List<Multiaddr> peers) {
        List<CompletableFuture<?>> dials = new ArrayList<>();
        for (Multiaddr a : peers) {
            dials.add(host.dial(a).thenCompose(c -> host.identifyResult(c)
                            .handle((info, failure) -> info)
                            .thenAcceptAsync(info -> considerBootstrap(c.remotePeer(), a, info), executor))
                    .exceptionally(e -> {
                        Throwable why = e instanceof CompletionException && e.getCause() != null
                            ? e.getCause() : e; // else the message starts with "java.io.IOException: "
                        String msg = String.valueOf(why.getMessage());
                        LOG.log(System.Logger.Level.WARNING, msg.contains(a.toString())
                            ? "bootstrap peer unreachable: " + msg : "bootstrap peer " + a + " unreachable: " + msg);
                        return null;
                    }));
        }
        return CompletableFuture.allOf(dials.toArray(CompletableFuture[]::new))
                .thenCompose(unused -> findNode(host.peerId().toBytes()));
    }

    /** A snapshot of the routing table, closest to our own key first. */
    public CompletableFuture<List<KadContact>> peers() {
        return CompletableFuture.supplyAsync(() -> server.table().closest(server.table().self(), Integer.MAX_VALUE),
                executor);
    }

    /** FIND_NODE lookup for arbitrary key bytes (peer id or content multihash). */
    public CompletableFuture<LookupResult<KadContact>> findNode(byte[] key) {
        CompletableFuture<LookupResult<KadContact>> result = new CompletableFuture<>();
        executor.execute(() -> {
            Lookup<KadContact> lookup = Lookup.findNode(nextLookupId++, KadKey.of(key), server.table(), config);
            perform(lookup.start(now()), key, result);
        });
        return result;
    }

    /**
     * GET_PROVIDERS lookup for a block, stopping after {@code wanted} providers; answered from our own provider
     * store without any query when it already holds that many.
     */
    public CompletableFuture<LookupResult<KadContact>> findProviders(BlockKey block, int wanted) {
        return findProviders(Multihash.fromBytes(block.multihash()), wanted);
    }

    /**
     * GET_PROVIDERS lookup for any multihash key (a block's sha1 multihash, or e.g. the sha2-256 multihash of a
     * CID another kad-dht implementation provides), stopping after {@code wanted} providers; answered from our own
     * provider store without any query when it already holds that many.
     */
    public CompletableFuture<LookupResult<KadContact>> findProviders(Multihash contentKey, int wanted) {
        byte[] key = contentKey.toBytes();
        CompletableFuture<LookupResult<KadContact>> result = new CompletableFuture<>();
        executor.execute(() -> {
            KadKey target = KadKey.of(key);
            List<KadContact> local = server.store().providers(target, now());
            if (wanted > 0 && local.size() >= wanted) { // we hold the records ourselves: no need to ask
                long t = now();
                result.complete(new LookupResult<>(nextLookupId++, Lookup.Kind.GET_PROVIDERS, target, List.of(),
                        local.subList(0, wanted), 0, 0, 0, t, t));
                return;
            }
            Lookup<KadContact> lookup = Lookup.getProviders(nextLookupId++, target, server.table(), config, wanted);
            perform(lookup.start(now()), key, result);
        });
        return result;
    }

    /**
     * Announces that this node provides the blocks (region sweep; standard single-key messages if asked). Completes
     * once every ADD_PROVIDER was handed to its connection.
     */
    public CompletableFuture<AnnounceReport> provide(List<BlockKey> blocks, AnnounceScheduler.Options options) {
        return provideKeys(blocks.stream().map(b -> Multihash.fromBytes(b.multihash())).toList(), options);
    }

    /**
     * Announces that this node provides content under any multihash keys. Peers whose identify agent is not ours
     * get standard one-key ADD_PROVIDER messages (several on one stream): other implementations ignore the
     * {@code additionalKeys} extension and would store only the first key of a batched message.
     */
    public CompletableFuture<AnnounceReport> provideKeys(List<Multihash> contentKeys,
                                                         AnnounceScheduler.Options options) {
        Map<KadKey, byte[]> keyBytes = new HashMap<>();
        for (Multihash k : contentKeys) {
            byte[] bytes = k.toBytes();
            keyBytes.put(KadKey.of(bytes), bytes);
        }
        CompletableFuture<AnnounceReport> result = new CompletableFuture<>();
        executor.execute(() -> {
            for (Map.Entry<KadKey, byte[]> e : keyBytes.entrySet()) server.store().add(e.getKey(), self(), now());
            var scheduler = new AnnounceScheduler<>(server.table(), config, options, List.copyOf(keyBytes.keySet()),
                    nextLookupId);
            nextLookupId += 1L << 32;
            performAnnounce(scheduler, scheduler.start(now()), keyBytes, new ArrayList<>(), result);
        });
        return result;
    }

    @Override
    public void close() {
        if (serverMode) host.unregisterHandler(PROTOCOL_ID);
    }

    // ---- driving the core -------------------------------------------------------------------------------------

    private long now() {
        return clock.getAsLong();
    }

    private KadContact self() {
        return new KadContact(host.peerId(), host.listenAddresses());
    }

    private void perform(List<LookupAction<KadContact>> actions, byte[] key,
                         CompletableFuture<LookupResult<KadContact>> result) {
        for (LookupAction<KadContact> a : actions) {
            switch (a) {
                case LookupAction.Query<KadContact> q -> {
                    KadMessage request = q.lookup().kind() == Lookup.Kind.FIND_NODE
                            ? new KadMessage.FindNode(key, List.of())
                            : new KadMessage.GetProviders(key, List.of(), List.of());
                    request(q.peer(), request).whenCompleteAsync((answer, error) -> {
                        List<KadContact> closer = error == null ? contacts(closerOf(answer)) : null;
                        if (closer == null) {
                            countFailure(q.peer(), error);
                            perform(q.lookup().onFailure(q.peer(), now()), key, result);
                        } else {
                            server.table().seen(q.peer(), now());
                            List<KadContact> providers = answer instanceof KadMessage.GetProviders g
                                    ? contacts(g.providerPeers()) : List.of();
                            perform(q.lookup().onResponse(q.peer(), closer, providers, now()), key, result);
                        }
                    }, executor);
                }
                case LookupAction.ArmTimer<KadContact> t -> executor.schedule(
                        () -> perform(t.lookup().onTimer(now()), key, result),
                        Math.max(0, t.atMillis() - now()), TimeUnit.MILLISECONDS);
                case LookupAction.Unresponsive<KadContact> u -> server.table().failed(u.peer(), now());
                case LookupAction.Done<KadContact> d -> {
                    server.table().lookupCompleted(d.result().target(), now());
                    result.complete(d.result());
                }
            }
        }
    }

    private void performAnnounce(AnnounceScheduler<KadContact> scheduler, List<AnnounceAction<KadContact>> actions,
                                 Map<KadKey, byte[]> keyBytes, List<CompletableFuture<Void>> sends,
                                 CompletableFuture<AnnounceReport> result) {
        for (AnnounceAction<KadContact> a : actions) {
            switch (a) {
                case AnnounceAction.Query<KadContact> q -> {
                    byte[] key = keyBytes.get(q.lookup().target());
                    request(q.peer(), new KadMessage.FindNode(key, List.of())).whenCompleteAsync((answer, error) -> {
                        List<KadContact> closer = error == null ? contacts(closerOf(answer)) : null;
                        if (closer == null) {
                            countFailure(q.peer(), error);
                            performAnnounce(scheduler, scheduler.onFailure(q.lookup(), q.peer(), now()), keyBytes,
                                    sends, result);
                        } else {
                            server.table().seen(q.peer(), now());
                            performAnnounce(scheduler, scheduler.onResponse(q.lookup(), q.peer(), closer, now()),
                                    keyBytes, sends, result);
                        }
                    }, executor);
                }
                case AnnounceAction.ArmTimer<KadContact> t -> executor.schedule(
                        () -> performAnnounce(scheduler, scheduler.onTimer(now()), keyBytes, sends, result),
                        Math.max(0, t.atMillis() - now()), TimeUnit.MILLISECONDS);
                case AnnounceAction.Unresponsive<KadContact> u -> server.table().failed(u.peer(), now());
                case AnnounceAction.AddProviders<KadContact> add -> {
                    List<byte[]> keys = add.keys().stream().map(keyBytes::get).toList();
                    sends.add(sendAddProvider(add.peer(), keys));
                }
                case AnnounceAction.Finished<KadContact> f -> CompletableFuture
                        .allOf(sends.toArray(CompletableFuture[]::new)).thenRun(() -> result.complete(f.report()));
            }
        }
    }

    /**
     * A failed query counts against the peer (towards eviction from the routing table), except a timeout (the lookup
     * reports that itself, as Unresponsive) and a refusal: a peer that opened the stream and then reset it or closed
     * it without answering is alive, it just would not answer this request (js kad-dht servers do that for sha1
     * keys), and it stays useful for other lookups.
     */
    private void countFailure(KadContact peer, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (!(cause instanceof TimeoutException) && !(cause instanceof RequestRefused)) {
            server.table().failed(peer, now());
        }
    }

    /** The peer accepted the stream but reset it or closed it without an answer. */
    private static final class RequestRefused extends IOException {
        RequestRefused(String message) {
            super(message);
        }
    }

    /** Runs on the executor every refresh interval: bucket refresh lookups and provider expiry. */
    private void maintain() {
        server.store().expire(now());
        for (int bucket : server.table().bucketsDueForRefresh(now())) {
            // FIND_NODE carries key bytes, so find random bytes whose kad key falls into the bucket
            byte[] key = new byte[32];
            for (int tries = 0; tries < REFRESH_TRIES; tries++) {
                random.nextBytes(key);
                if (server.table().bucketIndex(KadKey.of(key)) == bucket) {
                    findNode(key.clone());
                    break;
                }
            }
        }
    }

    /** A new connection: once identify says the peer is a DHT server, it may enter the routing table. */
    private void watch(Connection c) {
        host.identifyResult(c).thenAcceptAsync(this::consider, executor);
    }

    /**
     * A bootstrap peer the operator named goes into the table even when identify has not (yet) said that it
     * speaks our kad protocol: identify can fail or race with a busy peer, and a table left empty would make
     * every later lookup end at once with nothing. A peer that then fails its queries is evicted as usual.
     */
    private void considerBootstrap(PeerId peer, Multiaddr dialed, PeerStore.PeerInfo info) {
        if (info != null && info.supports(PROTOCOL_ID)) {
            consider(info);
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "bootstrap peer " + dialed + ": identify "
                + (info == null ? "failed" : "does not list " + PROTOCOL_ID) + "; asking it anyway");
        List<Multiaddr> addrs = new ArrayList<>();
        addrs.add(dialed.withoutPeerId());
        if (info != null) {
            info.addresses().stream().filter(x -> !addrs.contains(x)).forEach(addrs::add);
        }
        server.table().seen(new KadContact(peer, addrs), now());
    }

    private void consider(PeerStore.PeerInfo info) {
        if (info != null && info.supports(PROTOCOL_ID)) {
            server.table().seen(new KadContact(info.id(), info.addresses()), now());
        }
    }

    // ---- the wire ---------------------------------------------------------------------------------------------

    private static List<KadMessage.Peer> closerOf(KadMessage m) {
        return switch (m) {
            case KadMessage.FindNode f -> f.closerPeers();
            case KadMessage.GetProviders g -> g.closerPeers();
            case null, default -> null;
        };
    }

    /** Wire peers to contacts, skipping ourselves, malformed ids and peers without a usable address. */
    private List<KadContact> contacts(List<KadMessage.Peer> peers) {
        if (peers == null) return null;
        List<KadContact> out = new ArrayList<>(peers.size());
        for (KadMessage.Peer p : peers) {
            try {
                PeerId id = PeerId.fromBytes(p.id());
                if (id.equals(host.peerId())) continue;
                List<Multiaddr> addrs = new ArrayList<>();
                for (byte[] a : p.addrs()) {
                    try {
                        addrs.add(Multiaddr.fromBytes(a).withoutPeerId());
                    } catch (RuntimeException bad) {
                        // one bad address does not spoil the others
                    }
                }
                if (!addrs.isEmpty()) host.peerStore().addAddresses(id, addrs);
                out.add(new KadContact(id, addrs));
            } catch (RuntimeException bad) {
                LOG.log(System.Logger.Level.DEBUG, "skipping a malformed peer in a kad answer: " + bad.getMessage());
            }
        }
        return out;
    }

    private static KadMessage.Peer wirePeer(KadContact c) {
        return new KadMessage.Peer(c.id().toBytes(), c.addresses().stream().map(Multiaddr::toBytes).toList(),
                KadMessage.Connection.NOT_CONNECTED);
    }

    private List<KadMessage.Peer> wirePeers(List<KadContact> contacts) {
        List<KadMessage.Peer> out = new ArrayList<>(contacts.size());
        for (KadContact c : contacts) {
            List<Multiaddr> addrs = c.addresses().isEmpty()
                    ? host.peerStore().get(c.id()).map(PeerStore.PeerInfo::addresses).orElse(List.of())
                    : c.addresses();
            if (addrs.isEmpty()) continue;
            out.add(new KadMessage.Peer(c.id().toBytes(), addrs.stream().map(Multiaddr::toBytes).toList(),
                    KadMessage.Connection.NOT_CONNECTED));
        }
        return out;
    }

    /** Sends a request and waits for one answer; the stream is half-closed after the answer. */
    private CompletableFuture<KadMessage> request(KadContact peer, KadMessage request) {
        if (!peer.addresses().isEmpty()) host.peerStore().addAddresses(peer.id(), peer.addresses());
        CompletableFuture<KadMessage> answer = new CompletableFuture<>();
        host.openStream(peer.id(), PROTOCOL_ID).whenComplete((stream, error) -> {
            if (error != null) {
                answer.completeExceptionally(error);
                return;
            }
            answer.whenComplete((m, e) -> {
                if (e != null) stream.reset(); // timed out or broken: do not leave the stream open
            });
            KadFrameReader reader = new KadFrameReader();
            stream.setListener(new StreamListener() {
                @Override
                public void onData(P2pStream s, ByteBuf data) {
                    try {
                        for (byte[] m : reader.feed(data)) {
                            if (answer.complete(KadCodec.decode(m))) s.closeWrite();
                        }
                    } catch (KadMessageException e) {
                        answer.completeExceptionally(e);
                        s.reset();
                    }
                }

                @Override
                public void onReadClosed(P2pStream s) {
                    answer.completeExceptionally(new RequestRefused("kad peer " + peer.id() + " closed without answering"));
                    s.closeWrite();
                }

                @Override
                public void onReset(P2pStream s, Throwable cause) {
                    // a reset on a live connection is the peer refusing this request; else the connection died
                    answer.completeExceptionally(s.connection().isOpen()
                            ? new RequestRefused("kad peer " + peer.id() + " reset the stream: " + cause) : cause);
                }
            });
            stream.write(KadFrameReader.frame(KadCodec.encode(request)));
        });
        answer.orTimeout(config.queryTimeoutMillis(), TimeUnit.MILLISECONDS);
        return answer;
    }

    /**
     * Sends ADD_PROVIDER for {@code keys} (which has no answer) and half-closes the stream: one message carrying all
     * keys to a peer whose identify agent is ours, otherwise one standard single-key message per key on the same
     * stream. The future completes (never exceptionally) once the bytes are handed to the connection or sending
     * failed.
     */
    private CompletableFuture<Void> sendAddProvider(KadContact peer, List<byte[]> keys) {
        if (!peer.addresses().isEmpty()) host.peerStore().addAddresses(peer.id(), peer.addresses());
        List<KadMessage.Peer> provider = List.of(wirePeer(self()));
        return host.openStream(peer.id(), PROTOCOL_ID).thenCompose(stream -> {
            stream.setListener((s, data) -> { });
            CompletableFuture<Boolean> batched = keys.size() == 1 ? CompletableFuture.completedFuture(true)
                    : host.identifyResult(stream.connection())
                            .thenApply(info -> info != null && info.agentVersion() != null
                                    && info.agentVersion().startsWith(MULTI_KEY_AGENT_PREFIX))
                            .exceptionally(e -> false);
            return batched.thenCompose(all -> {
                if (all) {
                    stream.write(KadFrameReader.frame(KadCodec.encode(new KadMessage.AddProvider(keys, provider))));
                } else {
                    for (byte[] k : keys) {
                        stream.write(KadFrameReader.frame(
                                KadCodec.encode(new KadMessage.AddProvider(List.of(k), provider))));
                    }
                }
                return stream.closeWrite();
            });
        }).orTimeout(config.queryTimeoutMillis(), TimeUnit.MILLISECONDS).exceptionally(error -> {
            LOG.log(System.Logger.Level.DEBUG, "ADD_PROVIDER to " + peer.id() + " failed: " + error.getMessage());
            return null;
        });
    }

    /** Serves one inbound stream: several requests may follow each other; a bad message resets the stream. */
    private void serve(P2pStream stream) {
        KadFrameReader reader = new KadFrameReader();
        PeerId remote = stream.remotePeer();
        stream.setListener(new StreamListener() {
            @Override
            public void onData(P2pStream s, ByteBuf data) {
                try {
                    for (byte[] m : reader.feed(data)) {
                        KadMessage request = KadCodec.decode(m);
                        executor.execute(() -> answer(s, remote, request));
                    }
                } catch (KadMessageException e) {
                    LOG.log(System.Logger.Level.INFO, "closing kad stream from " + remote + ": " + e.getMessage());
                    s.reset();
                }
            }

            @Override
            public void onReadClosed(P2pStream s) {
                executor.execute(s::closeWrite); // after the answers queued before it
            }
        });
    }

    private void answer(P2pStream stream, PeerId remote, KadMessage request) {
        long now = now();
        KadContact requester = new KadContact(remote,
                host.peerStore().get(remote).map(PeerStore.PeerInfo::addresses).orElse(List.of()));
        if (host.peerStore().get(remote).map(i -> i.supports(PROTOCOL_ID)).orElse(false)) {
            server.table().seen(requester, now);
        }
        KadMessage response = switch (request) {
            case KadMessage.FindNode f -> new KadMessage.FindNode(f.key(),
                    wirePeers(server.findNode(KadKey.of(f.key()), requester, now).closerPeers()));
            case KadMessage.GetProviders g -> {
                KadServer.Answer<KadContact> a = server.getProviders(KadKey.of(g.key()), requester, now);
                yield new KadMessage.GetProviders(g.key(), wirePeers(a.closerPeers()), wirePeers(a.providers()));
            }
            case KadMessage.AddProvider add -> {
                // only the authenticated sender may announce itself, and only with an address
                for (KadMessage.Peer p : add.providerPeers()) {
                    if (!Arrays.equals(p.id(), remote.toBytes())) continue;
                    for (KadContact c : contacts(List.of(p))) {
                        if (!c.addresses().isEmpty()) {
                            server.addProviders(add.keys().stream().map(KadKey::of).toList(), c, now);
                        }
                    }
                }
                yield null; // ADD_PROVIDER has no answer
            }
            case KadMessage.Ping p -> p;
            case KadMessage.GetValue g -> new KadMessage.GetValue(g.key(), null,
                    wirePeers(server.findNode(KadKey.of(g.key()), requester, now).closerPeers()));
            case KadMessage.PutValue p -> null; // values are not stored by this DHT
        };
        if (response != null) stream.write(KadFrameReader.frame(KadCodec.encode(response)));
    }
}
