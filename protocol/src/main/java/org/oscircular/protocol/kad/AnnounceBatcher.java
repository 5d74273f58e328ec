package org.oscircular.protocol.kad;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * When a node announces the blocks it holds: newly held keys wait in a queue and go out together as one sweep
 * ({@link AnnounceScheduler}), {@code delayMillis} after a key arrives in an idle, empty queue; never two sweeps at
 * once (what arrives during a sweep waits for the next one); {@link #republish} queues everything held and sweeps at
 * once. Keys a sweep could not announce come back with {@link #sweepFinished} and go with the next one.
 *
 * <p>Sans-I/O: the driver passes the time with each event and performs the actions; the node drives it with real
 * timers ({@code CacheAnnouncer}), a simulator can drive it with virtual time. Not thread-safe.
 *
 * @param <K> the key type (block names in the node)
 */
public final class AnnounceBatcher<K> {

    /** What the driver does next. */
    public sealed interface Action<K> permits Sweep, ArmTimer {}

    /** Announce these keys now, as one sweep; then call {@link #sweepFinished}. */
    public record Sweep<K>(List<K> keys) implements Action<K> {
        public Sweep {
            keys = List.copyOf(keys);
        }
    }

    /** Call {@link #onTimer} at this time (a call before it does nothing). */
    public record ArmTimer<K>(long atMillis) implements Action<K> {}

    private static final long NONE = Long.MIN_VALUE;

    private final long delayMillis;
    private final LinkedHashSet<K> queue = new LinkedHashSet<>();
    private long flushAt = NONE;
    private boolean sweeping;

    /** @param delayMillis how long the first key of a batch waits for others; positive */
    public AnnounceBatcher(long delayMillis) {
        if (delayMillis <= 0) {
            throw new IllegalArgumentException("kad.announce-delay must be positive, got " + delayMillis + " ms");
        }
        this.delayMillis = delayMillis;
    }

    /** A key is now held (e.g. a block was cached). */
    public List<Action<K>> stored(K key, long nowMillis) {
        queue.add(key);
        if (sweeping || flushAt != NONE) {
            return List.of(); // goes with the batch already waiting, or after the running sweep
        }
        flushAt = nowMillis + delayMillis;
        return List.of(new ArmTimer<>(flushAt));
    }

    /** Queues every held key (at start, and every republish interval) and sweeps now unless a sweep runs. */
    public List<Action<K>> republish(Collection<K> held, long nowMillis) {
        queue.addAll(held);
        return sweeping ? List.of() : flush();
    }

    /** A timer armed by an {@link ArmTimer} fired. */
    public List<Action<K>> onTimer(long nowMillis) {
        if (sweeping || flushAt == NONE || nowMillis < flushAt) {
            return List.of();
        }
        return flush();
    }

    /**
     * The running sweep ended; {@code notAnnounced} are its keys that did not go out (all of them when it failed),
     * queued again.
     */
    public List<Action<K>> sweepFinished(Collection<K> notAnnounced, long nowMillis) {
        if (!sweeping) {
            throw new IllegalStateException("no sweep is running");
        }
        sweeping = false;
        queue.addAll(notAnnounced);
        if (queue.isEmpty()) {
            return List.of();
        }
        flushAt = nowMillis + delayMillis;
        return List.of(new ArmTimer<>(flushAt));
    }

    /** Keys waiting for the next sweep. */
    public int queued() {
        return queue.size();
    }

    public boolean sweeping() {
        return sweeping;
    }

    private List<Action<K>> flush() {
        flushAt = NONE;
        if (queue.isEmpty()) {
            return List.of();
        }
        List<K> batch = new ArrayList<>(queue);
        queue.clear();
        sweeping = true;
        return List.of(new Sweep<>(batch));
    }
}
