package org.oscircular.simulator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.oscircular.protocol.exchange.BlockExchange;
import org.oscircular.protocol.exchange.ExchangeConfig;
import org.oscircular.protocol.exchange.ExchangeAction;
import org.oscircular.protocol.exchange.ExchangeEvent;

/**
 * Drives one host's {@link BlockExchange} (the node's own policy class) with simulated time and transfers: it
 * keeps {@code prefetch} blocks of its list wanted ahead of the reader, carries out the exchange's actions through
 * the {@link Simulation}, and feeds back what arrives.
 */
final class NodeDriver {
    private final Simulation sim;
    final Host host;
    private final BlockExchange exchange;
    private final ExchangeConfig config;
    private int[] wanted = new int[0];
    private final int prefetch;
    /** Whether this driver fetches a list of its own (a boot or a preheat), not only for peers. */
    private boolean fetching;
    private final Map<Long, Transfer> transfers = new HashMap<>();
    private final Set<Integer> lookedUp = new HashSet<>();
    /** Blocks of this host's own list that are wanted and not yet delivered. */
    private final Set<Integer> own = new HashSet<>();
    /** Blocks wanted only to serve peers that asked this host as their designated fetcher. */
    private final Set<Integer> extra = new HashSet<>();
    /** Peers' requests waiting for a fetch-through: told true once the block is here, false if it is unavailable. */
    private final Map<Integer, List<Consumer<Boolean>>> waiters = new HashMap<>();
    private int cursor;
    private int inWindow;
    private int remaining;
    private long tickAt = Long.MAX_VALUE;
    boolean alive = true;

    /** A driver that only fetches for peers until {@link #start} gives it a list of its own. */
    NodeDriver(Simulation sim, Host host, int prefetch, ExchangeConfig config, SplittableRandom random) {
        this.sim = sim;
        this.host = host;
        this.prefetch = prefetch;
        this.exchange = new BlockExchange(config, random);
        this.config = config;
    }

    ExchangeConfig config() {
        return config;
    }

    boolean fetching() {
        return fetching;
    }

    /** Whether this is the first provider lookup this driver makes for the block. */
    boolean firstLookup(int block) {
        return lookedUp.add(block);
    }

    /** Starts fetching {@code list} (in order, {@code prefetch} ahead); the host is finished when all arrived. */
    void start(int[] list) {
        wanted = list;
        remaining = list.length;
        fetching = true;
        refill();
        if (remaining == 0) {
            sim.finished(host, false);
        }
    }

    /** Stops everything this driver has in progress (the host went offline). */
    void kill() {
        alive = false;
        for (Transfer t : transfers.values()) {
            sim.cancel(t);
        }
        transfers.clear();
    }

    private void refill() {
        while (alive && inWindow < prefetch && cursor < wanted.length) {
            int block = wanted[cursor++];
            if (sim.hasBlock(host, block)) {
                remaining--;
                continue;
            }
            inWindow++;
            own.add(block);
            if (!extra.remove(block)) {
                handle(new ExchangeEvent.Want(block));
            }
        }
    }

    /**
     * A peer asked for a block this host lacks and is the designated fetcher of: get it, then tell {@code then}
     * whether it arrived.
     */
    void fetchThrough(int block, Consumer<Boolean> then) {
        waiters.computeIfAbsent(block, b -> new ArrayList<>(2)).add(then);
        if (!own.contains(block) && extra.add(block)) {
            handle(new ExchangeEvent.Want(block));
        }
    }

    void handle(ExchangeEvent event) {
        if (!alive) {
            return;
        }
        List<ExchangeAction> actions = new ArrayList<>(4);
        exchange.handle(event, sim.now(), actions::add);
        for (ExchangeAction action : actions) {
            if (!alive) {
                return;
            }
            apply(action);
        }
        if (!fetching && alive && own.isEmpty() && extra.isEmpty() && transfers.isEmpty() && waiters.isEmpty()
                && exchange.forgettable(sim.now())) {
            // Fetched only for peers and done: a host that has not booted yet keeps no exchange state (the node
            // would keep its peer scores; only good will is lost, see BlockExchange.forgettable).
            alive = false;
            sim.released(this);
            return;
        }
        scheduleTick();
    }

    /** A Fetching notice for a transfer this driver started and still waits for. */
    void fetching(Transfer t) {
        if (!alive || t.cancelled || transfers.get(key(t.sourceId(), t.block)) != t) {
            return;
        }
        handle(new ExchangeEvent.PeerFetching(t.sourceId(), t.block));
    }

    /** A reply for a transfer this driver started: the block, "don't have" or a failure. */
    void reply(Transfer t, ExchangeEvent event) {
        if (!alive || t.cancelled || transfers.remove(key(t.sourceId(), t.block)) != t) {
            return;
        }
        handle(event);
    }

    private void apply(ExchangeAction action) {
        switch (action) {
            case ExchangeAction.Request r -> {
                Transfer t = sim.request(this, sim.host((int) r.peer()), r.block());
                transfers.put(key(r.peer(), r.block()), t);
            }
            case ExchangeAction.RequestOrigin o -> {
                Transfer t = sim.request(this, null, o.block());
                transfers.put(key(BlockExchange.ORIGIN, o.block()), t);
            }
            case ExchangeAction.Cancel c -> {
                Transfer t = transfers.remove(key(c.source(), c.block()));
                if (t != null) {
                    sim.cancel(t);
                }
            }
            case ExchangeAction.FindProviders f -> sim.discover(this, f.block());
            case ExchangeAction.Deliver d -> {
                sim.delivered(host, d.block());
                lookedUp.remove(d.block());
                extra.remove(d.block());
                List<Consumer<Boolean>> served = waiters.remove(d.block());
                if (served != null) {
                    served.forEach(w -> w.accept(true));
                }
                if (!own.remove(d.block())) {
                    return; // fetched only for peers
                }
                inWindow--;
                remaining--;
                if (remaining == 0) {
                    alive = false;
                    sim.finished(host, false);
                } else {
                    refill();
                }
            }
            case ExchangeAction.Disconnect d -> {
                sim.recorder().disconnects++;
                if (d.banned()) {
                    sim.recorder().bans++;
                }
                transfers.values().removeIf(t -> {
                    if (t.server != null && t.server.id == d.peer()) {
                        sim.cancel(t);
                        return true;
                    }
                    return false;
                });
            }
            case ExchangeAction.Unavailable u -> {
                List<Consumer<Boolean>> failed = waiters.remove(u.block());
                if (failed != null) {
                    failed.forEach(w -> w.accept(false)); // the peers hear "don't have" and look elsewhere
                }
                if (!own.contains(u.block())) {
                    extra.remove(u.block());
                    return;
                }
                sim.recorder().unavailable++;
                kill();
                sim.finished(host, true);
            }
        }
    }

    private void scheduleTick() {
        if (!alive) {
            return;
        }
        long next = exchange.nextDeadline();
        if (next < tickAt) {
            tickAt = next;
            sim.engine().at(next, () -> {
                if (alive && tickAt == next) {
                    tickAt = Long.MAX_VALUE;
                    handle(new ExchangeEvent.Tick());
                }
            });
        }
    }

    private static long key(long source, int block) {
        return (source << 32) ^ (block & 0xFFFFFFFFL);
    }
}
