package org.oscircular.protocol.kad;

import java.util.List;

/**
 * The outcome of a {@link Lookup}.
 *
 * @param lookupId    the id given when the lookup was created
 * @param kind        what was looked up
 * @param target      the key looked up
 * @param closest     up to {@code resultSize} peers closest to the target that answered, closest first
 * @param providers   provider peers returned (GET_PROVIDERS only), in order of arrival, without duplicates
 * @param hops        length of the query chain that reached the closest answering peer (for a provider lookup
 *                    that stopped early: the chain to the first peer that returned a provider); 0 if none answered
 * @param rpcs        queries sent, answered or not
 * @param failures    queries that failed or timed out
 * @param startedAt   time of {@link Lookup#start}
 * @param finishedAt  time the lookup finished
 */
public record LookupResult<P extends KadPeer>(
        long lookupId,
        Lookup.Kind kind,
        KadKey target,
        List<P> closest,
        List<P> providers,
        int hops,
        int rpcs,
        int failures,
        long startedAt,
        long finishedAt) {

    public long elapsedMillis() {
        return finishedAt - startedAt;
    }
}
