package org.oscircular.protocol.kad;

import java.util.List;

/** What an {@link AnnounceScheduler} asks its driver to do. */
public sealed interface AnnounceAction<P extends KadPeer> {

    /** Send FIND_NODE for {@code lookup.target()} to {@code peer}; feed the outcome back to the scheduler. */
    record Query<P extends KadPeer>(Lookup<P> lookup, P peer) implements AnnounceAction<P> {}

    /** Call {@link AnnounceScheduler#onTimer} at (or after) {@code atMillis}. */
    record ArmTimer<P extends KadPeer>(long atMillis) implements AnnounceAction<P> {}

    /** A query to {@code peer} timed out: count a failure against it in the routing table. */
    record Unresponsive<P extends KadPeer>(P peer) implements AnnounceAction<P> {}

    /**
     * Send ADD_PROVIDER for {@code keys} to {@code peer} (no answer is expected). With more than one key this is the
     * multi-key extension of {@code /circular/kad/1.0.0}; with {@code maxKeysPerMessage = 1} every message is a
     * standard single-key one.
     */
    record AddProviders<P extends KadPeer>(P peer, List<KadKey> keys) implements AnnounceAction<P> {}

    /** Every key was announced; no further actions follow. */
    record Finished<P extends KadPeer>(AnnounceReport report) implements AnnounceAction<P> {}
}
