package org.oscircular.protocol.kad;

/**
 * What a {@link Lookup} asks its driver to do. The driver performs the action and later feeds the outcome back as
 * an event on the lookup named in the action.
 */
public sealed interface LookupAction<P extends KadPeer> {

    /**
     * Send the lookup's request (FIND_NODE or GET_PROVIDERS for {@link Lookup#target()}) to {@code peer}; report the
     * answer with {@link Lookup#onResponse} or a transport error with {@link Lookup#onFailure}.
     */
    record Query<P extends KadPeer>(Lookup<P> lookup, P peer) implements LookupAction<P> {}

    /** Call {@link Lookup#onTimer} at (or after) {@code atMillis}. Earlier timers of the same lookup may be dropped. */
    record ArmTimer<P extends KadPeer>(Lookup<P> lookup, long atMillis) implements LookupAction<P> {}

    /** The query to {@code peer} timed out: count a failure against it in the routing table. */
    record Unresponsive<P extends KadPeer>(Lookup<P> lookup, P peer) implements LookupAction<P> {}

    /** The lookup finished; no further actions follow. */
    record Done<P extends KadPeer>(LookupResult<P> result) implements LookupAction<P> {}
}
