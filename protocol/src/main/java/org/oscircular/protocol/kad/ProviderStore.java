package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Provider records a DHT server holds for others: which peers said they have the content behind a key, each record
 * valid until its expiry ({@code providerTtlMillis}, 48 h in kad-dht). A provider announcing again refreshes its
 * record. The store is bounded: at most {@code maxProvidersPerKey} per key (a new provider replaces the one
 * expiring first) and {@code maxProviderRecords} overall (beyond that new records are refused until
 * {@link #expire} frees room).
 *
 * <p>Sans-I/O: time comes in as {@code nowMillis}; the driver calls {@link #expire} now and then (e.g. hourly).
 */
public final class ProviderStore<P extends KadPeer> {

    /** What {@link #add} did. */
    public enum AddResult { ADDED, REFRESHED, REPLACED_OLDEST, FULL }

    private final long ttlMillis;
    private final int maxRecords;
    private final int maxPerKey;
    private final Map<KadKey, Entry> entries = new HashMap<>();
    private int records;

    public ProviderStore(KadConfig config) {
        this.ttlMillis = config.providerTtlMillis();
        this.maxRecords = config.maxProviderRecords();
        this.maxPerKey = config.maxProvidersPerKey();
    }

    /** Stores or refreshes {@code provider} for {@code key}, valid until {@code nowMillis + ttl}. */
    public AddResult add(KadKey key, P provider, long nowMillis) {
        long expiresAt = nowMillis + ttlMillis;
        Entry e = entries.get(key);
        if (e != null) {
            int at = e.indexOf(provider);
            if (at >= 0) {
                e.expiresAt[at] = expiresAt;
                return AddResult.REFRESHED;
            }
            records -= e.dropExpired(nowMillis);
            if (e.size == maxPerKey) {
                e.set(e.soonestExpiring(), provider, expiresAt);
                return AddResult.REPLACED_OLDEST;
            }
        }
        if (records >= maxRecords) {
            if (e != null && e.size == 0) entries.remove(key);
            return AddResult.FULL;
        }
        if (e == null) {
            e = new Entry();
            entries.put(key, e);
        }
        e.append(provider, expiresAt);
        records++;
        return AddResult.ADDED;
    }

    /** Unexpired providers of {@code key}, most recently added last. */
    public List<P> providers(KadKey key, long nowMillis) {
        Entry e = entries.get(key);
        if (e == null) return List.of();
        List<P> out = new ArrayList<>(e.size);
        for (int i = 0; i < e.size; i++) {
            if (e.expiresAt[i] > nowMillis) {
                @SuppressWarnings("unchecked")
                P p = (P) e.peers[i];
                out.add(p);
            }
        }
        return out;
    }

    /** Drops every record that expired at or before {@code nowMillis}; returns how many. */
    public int expire(long nowMillis) {
        int removed = 0;
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            removed += e.dropExpired(nowMillis);
            if (e.size == 0) it.remove();
        }
        records -= removed;
        return removed;
    }

    /** Records held (some may have expired since the last {@link #expire}). */
    public int size() {
        return records;
    }

    /** Keys with at least one record held. */
    public int keyCount() {
        return entries.size();
    }

    private static final class Entry {
        Object[] peers = new Object[1];
        long[] expiresAt = new long[1];
        int size;

        int indexOf(Object p) {
            for (int i = 0; i < size; i++) {
                if (peers[i].equals(p)) return i;
            }
            return -1;
        }

        void append(Object p, long expiry) {
            if (size == peers.length) {
                peers = Arrays.copyOf(peers, size * 2);
                expiresAt = Arrays.copyOf(expiresAt, size * 2);
            }
            peers[size] = p;
            expiresAt[size] = expiry;
            size++;
        }

        void set(int at, Object p, long expiry) {
            peers[at] = p;
            expiresAt[at] = expiry;
        }

        int soonestExpiring() {
            int best = 0;
            for (int i = 1; i < size; i++) {
                if (expiresAt[i] < expiresAt[best]) best = i;
            }
            return best;
        }

        int dropExpired(long now) {
            int w = 0;
            for (int r = 0; r < size; r++) {
                if (expiresAt[r] > now) {
                    peers[w] = peers[r];
                    expiresAt[w] = expiresAt[r];
                    w++;
                }
            }
            int dropped = size - w;
            for (int i = w; i < size; i++) peers[i] = null;
            size = w;
            return dropped;
        }
    }
}
