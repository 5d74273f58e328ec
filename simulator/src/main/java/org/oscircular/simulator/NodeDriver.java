package org.oscircular.simulator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
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
    private final int[] wanted;
    private final int prefetch;
    private final Map<Long, Transfer> transfers = new HashMap<>();
    private final Set<Integer> lookedUp = new HashSet<>();
    private int cursor;
    private int inWindow;
    private int remaining;
    private long tickAt = Long.MAX_VALUE;
    boolean alive = true;

    NodeDriver(Simulation sim, Host host, int[] wanted, int prefetch, ExchangeConfig config, SplittableRandom random) {
        this.sim = sim;
        this.host = host;
        this.wanted = wanted;
        this.prefetch = prefetch;
        this.exchange = new BlockExchange(config, random);
        this.remaining = wanted.length;
    }

    /** Whether this is the first provider lookup this driver makes for the block. */
    boolean firstLookup(int block) {
        return lookedUp.add(block);
    }

    void start() {
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
        scheduleTick();
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
