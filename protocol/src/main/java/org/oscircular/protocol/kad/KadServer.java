package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.List;

/**
 * The answering side of the DHT: what a server-mode node replies to FIND_NODE and GET_PROVIDERS, and what it does
 * with ADD_PROVIDER, over its {@link RoutingTable} and {@link ProviderStore}.
 *
 * <p>The driver decides whether the requester enters the routing table (only server-mode peers do, via
 * {@code table().seen(...)}); answers never include the requester itself.
 */
public final class KadServer<P extends KadPeer> {

    /** Peers to return: closer peers (up to k) and, for GET_PROVIDERS, the providers known here. */
    public record Answer<P>(List<P> closerPeers, List<P> providers) {}

    private final P self;
    private final int k;
    private final RoutingTable<P> table;
    private final ProviderStore<P> store;

    public KadServer(P self, KadConfig config) {
        this.self = self;
        this.k = config.k();
        this.table = new RoutingTable<>(self.kadKey(), config);
        this.store = new ProviderStore<>(config);
    }

    public P self() {
        return self;
    }

    public RoutingTable<P> table() {
        return table;
    }

    public ProviderStore<P> store() {
        return store;
    }

    /** FIND_NODE: the k peers closest to {@code target} we know, except the requester. */
    public Answer<P> findNode(KadKey target, P requester, long nowMillis) {
        return new Answer<>(closerPeers(target, requester), List.of());
    }

    /** GET_PROVIDERS: providers of {@code key} held here plus the k closest peers we know. */
    public Answer<P> getProviders(KadKey key, P requester, long nowMillis) {
        return new Answer<>(closerPeers(key, requester), store.providers(key, nowMillis));
    }

    /**
     * ADD_PROVIDER for one or more keys (several keys in one message are this project's extension). The wire
     * layer has already checked that {@code provider} is the authenticated sender.
     */
    public void addProviders(List<KadKey> keys, P provider, long nowMillis) {
        for (KadKey key : keys) store.add(key, provider, nowMillis);
    }

    private List<P> closerPeers(KadKey target, P requester) {
        List<P> closest = table.closest(target, k + 1);
        List<P> out = new ArrayList<>(Math.min(k, closest.size()));
        for (P p : closest) {
            if (out.size() == k) break;
            if (!p.equals(requester)) out.add(p);
        }
        return out;
    }
}
