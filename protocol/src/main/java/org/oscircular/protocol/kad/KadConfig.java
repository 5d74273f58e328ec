package org.oscircular.protocol.kad;

/**
 * Every tunable of the DHT core, with the kad-dht defaults. Validate once when building a config; the state
 * machines trust it afterwards.
 *
 * @param k                     bucket size and replication factor (kad-dht: 20)
 * @param alpha                 parallel queries of one lookup (Kademlia paper: 3; go/js kad-dht use 10)
 * @param queryTimeoutMillis    a query not answered within this is a failure (go/js: 10 s per message)
 * @param evictAfterFailures    consecutive failed queries after which a peer leaves the routing table
 * @param replacementCacheSize  recently seen peers kept per full bucket to replace evicted ones
 * @param refreshIntervalMillis a bucket not looked up for this long gets a refresh lookup (kad-dht: 10 min)
 * @param providerTtlMillis     provider records expire after this (kad-dht: 48 h)
 * @param republishMillis       our own provider records are re-announced this often (kad-dht: 22 h)
 * @param maxProviderRecords    records a provider store holds at most, over all keys
 * @param maxProvidersPerKey    providers kept per key (the oldest is replaced)
 */
public record KadConfig(
        int k,
        int alpha,
        long queryTimeoutMillis,
        int evictAfterFailures,
        int replacementCacheSize,
        long refreshIntervalMillis,
        long providerTtlMillis,
        long republishMillis,
        int maxProviderRecords,
        int maxProvidersPerKey) {

    public static final int DEFAULT_K = 20;
    public static final int DEFAULT_ALPHA = 3;
    public static final long DEFAULT_QUERY_TIMEOUT_MILLIS = 10_000;
    public static final int DEFAULT_EVICT_AFTER_FAILURES = 2;
    public static final int DEFAULT_REPLACEMENT_CACHE_SIZE = 4;
    public static final long DEFAULT_REFRESH_INTERVAL_MILLIS = 10 * 60_000L;
    public static final long DEFAULT_PROVIDER_TTL_MILLIS = 48 * 3_600_000L;
    public static final long DEFAULT_REPUBLISH_MILLIS = 22 * 3_600_000L;
    public static final int DEFAULT_MAX_PROVIDER_RECORDS = 1_000_000;
    public static final int DEFAULT_MAX_PROVIDERS_PER_KEY = 64;

    public static final KadConfig DEFAULTS = new KadConfig(DEFAULT_K, DEFAULT_ALPHA, DEFAULT_QUERY_TIMEOUT_MILLIS,
            DEFAULT_EVICT_AFTER_FAILURES, DEFAULT_REPLACEMENT_CACHE_SIZE, DEFAULT_REFRESH_INTERVAL_MILLIS,
            DEFAULT_PROVIDER_TTL_MILLIS, DEFAULT_REPUBLISH_MILLIS, DEFAULT_MAX_PROVIDER_RECORDS,
            DEFAULT_MAX_PROVIDERS_PER_KEY);

    public KadConfig {
        require(k >= 1 && k <= 127, "kad.k must be 1..127, got " + k);
        require(alpha >= 1, "kad.alpha must be at least 1, got " + alpha);
        require(queryTimeoutMillis >= 1, "kad.query-timeout must be positive, got " + queryTimeoutMillis + " ms");
        require(evictAfterFailures >= 1 && evictAfterFailures <= 127,
                "kad.evict-after-failures must be 1..127, got " + evictAfterFailures);
        require(replacementCacheSize >= 0, "kad.replacement-cache must be >= 0, got " + replacementCacheSize);
        require(refreshIntervalMillis >= 1, "kad.refresh-interval must be positive, got " + refreshIntervalMillis);
        require(providerTtlMillis >= 1, "kad.provider-ttl must be positive, got " + providerTtlMillis);
        require(republishMillis >= 1 && republishMillis < providerTtlMillis,
                "kad.republish-interval must be positive and shorter than kad.provider-ttl ("
                        + providerTtlMillis + " ms), got " + republishMillis + " ms");
        require(maxProviderRecords >= 1, "kad.max-provider-records must be positive, got " + maxProviderRecords);
        require(maxProvidersPerKey >= 1, "kad.max-providers-per-key must be positive, got " + maxProvidersPerKey);
    }

    public KadConfig withK(int newK) {
        return new KadConfig(newK, alpha, queryTimeoutMillis, evictAfterFailures, replacementCacheSize,
                refreshIntervalMillis, providerTtlMillis, republishMillis, maxProviderRecords, maxProvidersPerKey);
    }

    public KadConfig withAlpha(int newAlpha) {
        return new KadConfig(k, newAlpha, queryTimeoutMillis, evictAfterFailures, replacementCacheSize,
                refreshIntervalMillis, providerTtlMillis, republishMillis, maxProviderRecords, maxProvidersPerKey);
    }

    public KadConfig withQueryTimeoutMillis(long millis) {
        return new KadConfig(k, alpha, millis, evictAfterFailures, replacementCacheSize,
                refreshIntervalMillis, providerTtlMillis, republishMillis, maxProviderRecords, maxProvidersPerKey);
    }

    public KadConfig withProviderTimes(long ttlMillis, long republishEveryMillis) {
        return new KadConfig(k, alpha, queryTimeoutMillis, evictAfterFailures, replacementCacheSize,
                refreshIntervalMillis, ttlMillis, republishEveryMillis, maxProviderRecords, maxProvidersPerKey);
    }

    public KadConfig withProviderLimits(int maxRecords, int maxPerKey) {
        return new KadConfig(k, alpha, queryTimeoutMillis, evictAfterFailures, replacementCacheSize,
                refreshIntervalMillis, providerTtlMillis, republishMillis, maxRecords, maxPerKey);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
