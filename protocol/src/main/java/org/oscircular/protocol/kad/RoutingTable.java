package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Kademlia k-buckets around one node's key. Bucket {@code i} holds peers whose key shares exactly {@code i} leading
 * bits with ours; each holds at most k peers ordered from least to most recently seen, plus a small replacement
 * cache of peers seen while the bucket was full. A peer that fails {@code evictAfterFailures} queries in a row is
 * evicted and the most recently seen replacement takes its place.
 *
 * <p>Sans-I/O: the caller reports what happened ({@link #seen}, {@link #failed}) with the current time; the table
 * answers {@link #closest} and says which buckets need a refresh lookup. Buckets and their arrays are allocated
 * only when used, so an idle table costs a few hundred bytes (the simulator holds one per node).
 */
public final class RoutingTable<P extends KadPeer> {

    /** What {@link #seen} did with a peer. */
    public enum Insert { ADDED, UPDATED, CACHED, SELF }

    private final KadKey self;
    private final int k;
    private final int cacheSize;
    private final int evictAfterFailures;
    private final long refreshIntervalMillis;
    private Bucket[] buckets = new Bucket[0];
    private long[] lastRefreshed = new long[0];
    private int size;

    public RoutingTable(KadKey self, KadConfig config) {
        this.self = self;
        this.k = config.k();
        this.cacheSize = config.replacementCacheSize();
        this.evictAfterFailures = config.evictAfterFailures();
        this.refreshIntervalMillis = config.refreshIntervalMillis();
    }

    public KadKey self() {
        return self;
    }

    /** Number of peers in the buckets (replacement caches not counted). */
    public int size() {
        return size;
    }

    /** Number of buckets allocated so far (one more than the deepest bucket ever used). */
    public int bucketCount() {
        return buckets.length;
    }

    /** The bucket a key falls into: its common prefix length with our key (256 for our own key). */
    public int bucketIndex(KadKey key) {
        return self.commonPrefixLength(key);
    }

    /**
     * A peer answered us or sent us a request: it is alive. Moves it to the most-recently-seen end of its bucket and
     * clears its failures, adds it if the bucket has room, or else remembers it in the bucket's replacement cache.
     */
    public Insert seen(P peer, long nowMillis) {
        int index = bucketIndex(peer.kadKey());
        if (index == KadKey.BITS) return Insert.SELF;
        Bucket b = bucketForWrite(index);
        int at = b.indexOf(peer);
        if (at >= 0) {
            b.moveToTail(at, nowMillis);
            return Insert.UPDATED;
        }
        if (b.size < k) {
            b.append(peer, nowMillis, k);
            b.removeCached(peer);
            size++;
            return Insert.ADDED;
        }
        if (cacheSize > 0) b.cache(peer, cacheSize);
        return Insert.CACHED;
    }

    /**
     * A query to the peer failed or timed out. Returns true when this evicted it (after {@code evictAfterFailures}
     * consecutive failures); a cached replacement, if any, takes the free slot.
     */
    public boolean failed(P peer, long nowMillis) {
        int index = bucketIndex(peer.kadKey());
        if (index >= buckets.length || buckets[index] == null) return false;
        Bucket b = buckets[index];
        int at = b.indexOf(peer);
        if (at < 0) {
            b.removeCached(peer);
            return false;
        }
        if (b.failures[at] < Byte.MAX_VALUE) b.failures[at]++;
        if (b.failures[at] < evictAfterFailures) return false;
        b.removeAt(at);
        size--;
        Object replacement = b.takeNewestCached();
        if (replacement != null) {
            b.append(replacement, nowMillis, k);
            size++;
        }
        return true;
    }

    /** Removes a peer (e.g. it switched to client mode); returns whether it was present. */
    public boolean remove(P peer) {
        int index = bucketIndex(peer.kadKey());
        if (index >= buckets.length || buckets[index] == null) return false;
        Bucket b = buckets[index];
        b.removeCached(peer);
        int at = b.indexOf(peer);
        if (at < 0) return false;
        b.removeAt(at);
        size--;
        return true;
    }

    public boolean contains(P peer) {
        int index = bucketIndex(peer.kadKey());
        return index < buckets.length && buckets[index] != null && buckets[index].indexOf(peer) >= 0;
    }

    /** Peers of bucket {@code index}, least recently seen first. */
    public List<P> bucket(int index) {
        if (index >= buckets.length || buckets[index] == null) return List.of();
        return buckets[index].peers();
    }

    /** The least recently seen peer of the bucket a key falls into (the one to ping when it is full), or null. */
    public P leastRecentlySeen(KadKey key) {
        int index = bucketIndex(key);
        if (index >= buckets.length || buckets[index] == null || buckets[index].size == 0) return null;
        @SuppressWarnings("unchecked")
        P p = (P) buckets[index].peers[0];
        return p;
    }

    /** All peers in the table, bucket by bucket. */
    public List<P> peers() {
        List<P> out = new ArrayList<>(size);
        for (Bucket b : buckets) {
            if (b != null) out.addAll(b.peers());
        }
        return out;
    }

    /**
     * The {@code n} peers closest to {@code target}, closest first. Walks buckets in distance order instead of
     * sorting the whole table: the target's own bucket first, then all deeper buckets together, then shallower
     * buckets one by one.
     */
    public List<P> closest(KadKey target, int n) {
        List<P> out = new ArrayList<>(Math.min(n, size));
        if (n <= 0 || size == 0) return out;
        Comparator<P> byDistance = (a, b) -> target.compareDistance(a.kadKey(), b.kadKey());
        int t = bucketIndex(target);
        if (t == KadKey.BITS) {
            // target is our own key: deeper buckets are closer
            for (int i = buckets.length - 1; i >= 0 && out.size() < n; i--) addSorted(out, i, byDistance, n);
            return out;
        }
        addSorted(out, t, byDistance, n);
        if (out.size() < n) {
            int from = out.size();
            for (int i = t + 1; i < buckets.length; i++) {
                if (buckets[i] != null) buckets[i].addTo(out);
            }
            sortAndTrim(out, from, byDistance, n);
        }
        for (int i = Math.min(t, buckets.length) - 1; i >= 0 && out.size() < n; i--) addSorted(out, i, byDistance, n);
        return out;
    }

    private void addSorted(List<P> out, int index, Comparator<P> byDistance, int n) {
        if (index >= buckets.length || buckets[index] == null) return;
        int from = out.size();
        buckets[index].addTo(out);
        sortAndTrim(out, from, byDistance, n);
    }

    private static <P> void sortAndTrim(List<P> out, int from, Comparator<P> byDistance, int n) {
        out.subList(from, out.size()).sort(byDistance);
        if (out.size() > n) out.subList(n, out.size()).clear();
    }

    /**
     * Records that a lookup for {@code target} completed, which refreshes the target's bucket. Lookups for our own
     * key refresh nothing by themselves (they keep the deepest buckets fresh as a side effect of {@link #seen}).
     */
    public void lookupCompleted(KadKey target, long nowMillis) {
        int index = bucketIndex(target);
        if (index == KadKey.BITS) return;
        ensureRefreshSlots(index + 1);
        lastRefreshed[index] = nowMillis;
    }

    /**
     * Bucket indexes whose last lookup is older than the refresh interval, from 0 up to one past the deepest
     * non-empty bucket (deeper buckets cannot hold peers we do not know of yet, as libp2p kad-dht does).
     */
    public int[] bucketsDueForRefresh(long nowMillis) {
        int limit = refreshLimit();
        ensureRefreshSlots(limit);
        int[] due = new int[limit];
        int n = 0;
        for (int i = 0; i < limit; i++) {
            if (nowMillis - lastRefreshed[i] >= refreshIntervalMillis) due[n++] = i;
        }
        return Arrays.copyOf(due, n);
    }

    /** When the next bucket becomes due for a refresh (arm a timer for it). */
    public long nextRefreshAt() {
        int limit = refreshLimit();
        ensureRefreshSlots(limit);
        long next = Long.MAX_VALUE;
        for (int i = 0; i < limit; i++) next = Math.min(next, lastRefreshed[i] + refreshIntervalMillis);
        return next;
    }

    /** A random lookup target that falls into bucket {@code index}. */
    public KadKey refreshTarget(int index, RandomGenerator random) {
        return self.randomWithCommonPrefix(index, random);
    }

    private int refreshLimit() {
        int deepest = -1;
        for (int i = buckets.length - 1; i >= 0; i--) {
            if (buckets[i] != null && buckets[i].size > 0) {
                deepest = i;
                break;
            }
        }
        return Math.min(deepest + 2, KadKey.BITS);
    }

    private void ensureRefreshSlots(int n) {
        if (lastRefreshed.length < n) lastRefreshed = Arrays.copyOf(lastRefreshed, n);
    }

    private Bucket bucketForWrite(int index) {
        if (index >= buckets.length) buckets = Arrays.copyOf(buckets, index + 1);
        Bucket b = buckets[index];
        if (b == null) {
            b = new Bucket();
            buckets[index] = b;
        }
        return b;
    }

    /** Parallel arrays, least recently seen first; grown on demand up to k. */
    private static final class Bucket {
        Object[] peers = new Object[2];
        long[] lastSeen = new long[2];
        byte[] failures = new byte[2];
        int size;
        Object[] cached; // replacement cache, oldest first
        int cachedSize;

        int indexOf(Object peer) {
            for (int i = 0; i < size; i++) {
                if (peers[i].equals(peer)) return i;
            }
            return -1;
        }

        void append(Object peer, long now, int k) {
            if (size == peers.length) {
                int cap = Math.min(k, Math.max(2, size * 2));
                peers = Arrays.copyOf(peers, cap);
                lastSeen = Arrays.copyOf(lastSeen, cap);
                failures = Arrays.copyOf(failures, cap);
            }
            peers[size] = peer;
            lastSeen[size] = now;
            failures[size] = 0;
            size++;
        }

        void moveToTail(int at, long now) {
            Object p = peers[at];
            int tail = size - 1 - at;
            System.arraycopy(peers, at + 1, peers, at, tail);
            System.arraycopy(lastSeen, at + 1, lastSeen, at, tail);
            System.arraycopy(failures, at + 1, failures, at, tail);
            peers[size - 1] = p;
            lastSeen[size - 1] = now;
            failures[size - 1] = 0;
        }

        void removeAt(int at) {
            int tail = size - 1 - at;
            System.arraycopy(peers, at + 1, peers, at, tail);
            System.arraycopy(lastSeen, at + 1, lastSeen, at, tail);
            System.arraycopy(failures, at + 1, failures, at, tail);
            size--;
            peers[size] = null;
        }

        void cache(Object peer, int capacity) {
            removeCached(peer);
            if (cached == null) cached = new Object[capacity];
            if (cachedSize == capacity) {
                System.arraycopy(cached, 1, cached, 0, capacity - 1);
                cachedSize--;
            }
            cached[cachedSize++] = peer;
        }

        void removeCached(Object peer) {
            for (int i = 0; i < cachedSize; i++) {
                if (cached[i].equals(peer)) {
                    System.arraycopy(cached, i + 1, cached, i, cachedSize - 1 - i);
                    cached[--cachedSize] = null;
                    return;
                }
            }
        }

        Object takeNewestCached() {
            if (cachedSize == 0) return null;
            Object p = cached[--cachedSize];
            cached[cachedSize] = null;
            return p;
        }

        @SuppressWarnings("unchecked")
        <P> List<P> peers() {
            List<P> out = new ArrayList<>(size);
            for (int i = 0; i < size; i++) out.add((P) peers[i]);
            return out;
        }

        @SuppressWarnings("unchecked")
        <P> void addTo(List<P> out) {
            for (int i = 0; i < size; i++) out.add((P) peers[i]);
        }
    }
}
