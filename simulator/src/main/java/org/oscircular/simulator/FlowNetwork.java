package org.oscircular.simulator;

import java.util.Arrays;

/**
 * A flow-level network: links with a capacity, flows that cross a few links, and rates that follow max-min
 * fairness (progressive filling, as SimGrid's fluid models do). Rates are recomputed only over the connected
 * component of links touched since the last computation, once per virtual instant. Each flow has one pending
 * completion event; a rate change schedules an earlier one only when the flow would now finish earlier, and an
 * event that fires before its flow is done simply re-arms itself.
 *
 * <p>Links whose component had more than {@code largeComponent} flows at their last computation (an origin shared
 * by thousands of downloads) batch their changes over {@code largeComponentDelay} of virtual time: those flows
 * each get a small share of a big link, so the delay is small against their transfer times. Links of small
 * components (a LAN) are recomputed at once.
 */
final class FlowNetwork {
    /** Told when a flow has moved all its bytes. */
    @FunctionalInterface
    interface Completion {
        void completed(int flow);
    }

    private final Engine engine;
    private final int largeComponent;
    private final long largeComponentDelay;

    // links
    private double[] capacity = new double[64]; // bytes per nanosecond
    private int[][] linkFlows = new int[64][];
    private int[] linkFlowCount = new int[64];
    private int[] linkMark = new int[64];
    private int links;

    // flows
    private int[][] path = new int[256][];
    private int[][] slot = new int[256][]; // position of the flow in each of its links' lists
    private double[] remaining = new double[256];
    private double[] rate = new double[256];
    private long[] updatedAt = new long[256];
    private long[] size = new long[256];
    private int[] version = new int[256];
    private long[] pendingAt = new long[256];
    private int[] flowMark = new int[256];
    private boolean[] active = new boolean[256];
    private Completion[] completion = new Completion[256];
    private int[] free = new int[256];
    private int freeCount;
    private int flowSlots;
    private int activeFlows;

    // recomputation scratch
    private int[] dirty = new int[64];
    private int dirtyCount;
    private boolean recomputeScheduled;
    private int[] largeDirty = new int[64];
    private int largeDirtyCount;
    private boolean largeScheduled;
    /** Flows in the component each link was part of at its last rate computation. */
    private int[] componentSize = new int[64];
    private int epoch;
    private int[] compLinks = new int[64];
    private int[] compFlows = new int[256];
    private double[] remCap = new double[64];
    private int[] unfrozen = new int[64];
    private double[] newRate = new double[256];
    private double[] heapKeys = new double[64];
    private int[] heapLinks = new int[64];
    private long recomputations;
    private long componentFlowsVisited;

    FlowNetwork(Engine engine) {
        this(engine, Integer.MAX_VALUE, 0);
    }

    FlowNetwork(Engine engine, int largeComponent, long largeComponentDelay) {
        this.engine = engine;
        this.largeComponent = largeComponent;
        this.largeComponentDelay = largeComponentDelay;
    }

    /** Adds a link of {@code bitsPerSecond} capacity; returns its id. */
    int addLink(double bitsPerSecond) {
        if (!(bitsPerSecond > 0) || Double.isInfinite(bitsPerSecond)) {
            throw new IllegalArgumentException("link capacity must be positive and finite, got " + bitsPerSecond);
        }
        if (links == capacity.length) {
            int n = links * 2;
            capacity = Arrays.copyOf(capacity, n);
            linkFlows = Arrays.copyOf(linkFlows, n);
            linkFlowCount = Arrays.copyOf(linkFlowCount, n);
            linkMark = Arrays.copyOf(linkMark, n);
            componentSize = Arrays.copyOf(componentSize, n);
            remCap = Arrays.copyOf(remCap, n);
            unfrozen = Arrays.copyOf(unfrozen, n);
        }
        capacity[links] = bitsPerSecond / 8.0 / 1e9;
        return links++;
    }

    int linkCount() {
        return links;
    }

    int activeFlows() {
        return activeFlows;
    }

    long recomputations() {
        return recomputations;
    }

    long componentFlowsVisited() {
        return componentFlowsVisited;
    }

    /** Starts moving {@code bytes} over {@code route} (link ids, no duplicates); returns the flow id. */
    int start(int[] route, long bytes, Completion done) {
        int f = allocate();
        path[f] = route;
        slot[f] = new int[route.length];
        remaining[f] = bytes;
        rate[f] = 0;
        updatedAt[f] = engine.now();
        size[f] = bytes;
        version[f]++;
        pendingAt[f] = Long.MAX_VALUE;
        active[f] = true;
        completion[f] = done;
        activeFlows++;
        for (int i = 0; i < route.length; i++) {
            int l = route[i];
            int[] list = linkFlows[l];
            if (list == null) {
                list = linkFlows[l] = new int[4];
            } else if (linkFlowCount[l] == list.length) {
                list = linkFlows[l] = Arrays.copyOf(list, list.length * 2);
            }
            slot[f][i] = linkFlowCount[l];
            list[linkFlowCount[l]++] = f;
            markDirty(l);
        }
        if (route.length == 0 || bytes == 0) {
            int v = version[f];
            pendingAt[f] = engine.now();
            engine.after(0, () -> completionDue(f, v, engine.now()));
        }
        return f;
    }

    /** Stops a flow early; returns the bytes it had moved. */
    long abort(int f) {
        if (!active[f]) {
            return 0;
        }
        long moved = transferred(f);
        remove(f);
        return moved;
    }

    /** Bytes a flow has moved so far. */
    long transferred(int f) {
        double left = remaining[f] - rate[f] * (engine.now() - updatedAt[f]);
        long moved = size[f] - (long) Math.ceil(Math.max(0, left));
        return Math.max(0, Math.min(size[f], moved));
    }

    double rateBitsPerSecond(int f) {
        return rate[f] * 8e9;
    }

    private int allocate() {
        if (freeCount > 0) {
            return free[--freeCount];
        }
        if (flowSlots == path.length) {
            int n = flowSlots * 2;
            path = Arrays.copyOf(path, n);
            slot = Arrays.copyOf(slot, n);
            remaining = Arrays.copyOf(remaining, n);
            rate = Arrays.copyOf(rate, n);
            updatedAt = Arrays.copyOf(updatedAt, n);
            size = Arrays.copyOf(size, n);
            version = Arrays.copyOf(version, n);
            pendingAt = Arrays.copyOf(pendingAt, n);
            flowMark = Arrays.copyOf(flowMark, n);
            active = Arrays.copyOf(active, n);
            completion = Arrays.copyOf(completion, n);
            newRate = Arrays.copyOf(newRate, n);
        }
        return flowSlots++;
    }

    private void remove(int f) {
        active[f] = false;
        version[f]++;
        activeFlows--;
        int[] route = path[f];
        for (int i = 0; i < route.length; i++) {
            int l = route[i];
            int at = slot[f][i];
            int last = --linkFlowCount[l];
            int moved = linkFlows[l][last];
            linkFlows[l][at] = moved;
            if (moved != f) {
                int[] mp = path[moved];
                for (int j = 0; j < mp.length; j++) {
                    if (mp[j] == l) {
                        slot[moved][j] = at;
                        break;
                    }
                }
            }
            markDirty(l);
        }
        completion[f] = null;
        path[f] = null;
        slot[f] = null;
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, free.length * 2);
        }
        free[freeCount++] = f;
    }

    /** A completion event fired: finish the flow if its bytes are through, else re-arm at the projected time. */
    private void completionDue(int f, int v, long at) {
        if (!active[f] || version[f] != v || at != pendingAt[f]) {
            return;
        }
        long now = engine.now();
        double left = remaining[f] - rate[f] * (now - updatedAt[f]);
        if (left > 1e-6 * Math.max(1, size[f]) && path[f].length > 0) {
            long next = rate[f] > 0 ? now + Math.max(1, (long) Math.ceil(left / rate[f])) : Long.MAX_VALUE;
            pendingAt[f] = next;
            if (next != Long.MAX_VALUE) {
                engine.at(next, () -> completionDue(f, v, next));
            }
            return;
        }
        finish(f);
    }

    private void finish(int f) {
        Completion done = completion[f];
        remaining[f] = 0;
        rate[f] = 0;
        remove(f);
        done.completed(f);
    }

    private void markDirty(int l) {
        if (isLarge(l)) {
            deferToLarge(l);
            return;
        }
        if (dirtyCount == dirty.length) {
            dirty = Arrays.copyOf(dirty, dirtyCount * 2);
        }
        dirty[dirtyCount++] = l;
        if (!recomputeScheduled) {
            recomputeScheduled = true;
            engine.after(0, this::recomputeNow);
        }
    }

    private void recomputeNow() {
        recomputeScheduled = false;
        recompute(dirty, dirtyCount, true);
        dirtyCount = 0;
    }

    private void recomputeLarge() {
        largeScheduled = false;
        int n = largeDirtyCount;
        largeDirtyCount = 0;
        int[] seeds = largeDirty;
        largeDirty = new int[Math.max(64, seeds.length)];
        recompute(seeds, n, false);
    }

    private boolean isLarge(int link) {
        return componentSize[link] > largeComponent && largeComponentDelay > 0;
    }

    /** Hands a link to the next batched recomputation of large components. */
    private void deferToLarge(int link) {
        if (largeDirtyCount == largeDirty.length) {
            largeDirty = Arrays.copyOf(largeDirty, largeDirtyCount * 2);
        }
        largeDirty[largeDirtyCount++] = link;
        if (!largeScheduled) {
            largeScheduled = true;
            engine.after(largeComponentDelay, this::recomputeLarge);
        }
    }

    /**
     * Recomputes the rates of the components of the given links. An immediate recomputation ({@code immediate})
     * that reaches a link of a large component stops there and leaves the component to the next batch: a new
     * flow that joins a large component (a remote transfer whose path crosses a WAN link the origin storm also
     * crosses) waits for the batch like every other change of it, instead of recomputing it at once.
     */
    private void recompute(int[] seeds, int seedCount, boolean immediate) {
        recomputations++;
        long now = engine.now();
        int mark = ++epoch;
        int nl = 0;
        int nf = 0;
        // Collect the connected component of each dirty link (links -> flows -> links ...) and label its links
        // with its size, which decides whether their next change is batched.
        for (int d = 0; d < seedCount; d++) {
            int seed = seeds[d];
            if (linkMark[seed] == mark) {
                continue;
            }
            int linkStart = nl;
            int flowStart = nf;
            linkMark[seed] = mark;
            if (immediate && isLarge(seed)) {
                deferToLarge(seed);
                continue;
            }
            if (nl == compLinks.length) {
                compLinks = Arrays.copyOf(compLinks, nl * 2);
            }
            compLinks[nl++] = seed;
            boolean deferred = false;
            for (int i = linkStart; i < nl && !deferred; i++) {
                int l = compLinks[i];
                int[] list = linkFlows[l];
                for (int k = 0; k < linkFlowCount[l]; k++) {
                    int f = list[k];
                    if (flowMark[f] == mark) {
                        continue;
                    }
                    flowMark[f] = mark;
                    if (nf == compFlows.length) {
                        compFlows = Arrays.copyOf(compFlows, nf * 2);
                    }
                    compFlows[nf++] = f;
                    for (int m : path[f]) {
                        if (linkMark[m] != mark) {
                            linkMark[m] = mark;
                            if (immediate && isLarge(m)) {
                                deferred = true;
                            }
                            if (nl == compLinks.length) {
                                compLinks = Arrays.copyOf(compLinks, nl * 2);
                            }
                            compLinks[nl++] = m;
                        }
                    }
                }
            }
            if (deferred) {
                nl = linkStart;
                nf = flowStart;
                deferToLarge(seed);
                continue;
            }
            int size = nf - flowStart;
            for (int i = linkStart; i < nl; i++) {
                componentSize[compLinks[i]] = size;
            }
        }
        componentFlowsVisited += nf;
        // Bring every flow's progress up to now at its old rate.
        for (int i = 0; i < nf; i++) {
            int f = compFlows[i];
            remaining[f] = Math.max(0, remaining[f] - rate[f] * (now - updatedAt[f]));
            updatedAt[f] = now;
            newRate[f] = -1;
        }
        // Progressive filling: repeatedly saturate the link with the smallest fair share.
        int heapSize = 0;
        for (int i = 0; i < nl; i++) {
            int l = compLinks[i];
            remCap[l] = capacity[l];
            unfrozen[l] = linkFlowCount[l];
            if (unfrozen[l] > 0) {
                heapSize = heapPush(heapSize, remCap[l] / unfrozen[l], l);
            }
        }
        while (heapSize > 0) {
            double key = heapKeys[0];
            int l = heapLinks[0];
            heapSize = heapPop(heapSize);
            if (unfrozen[l] == 0) {
                continue;
            }
            double share = Math.max(0, remCap[l]) / unfrozen[l];
            if (share > key * (1 + 1e-12) + 1e-300) {
                heapSize = heapPush(heapSize, share, l);
                continue;
            }
            int[] list = linkFlows[l];
            for (int k = 0; k < linkFlowCount[l]; k++) {
                int f = list[k];
                if (newRate[f] >= 0) {
                    continue;
                }
                newRate[f] = share;
                for (int m : path[f]) {
                    remCap[m] -= share;
                    unfrozen[m]--;
                }
            }
        }
        for (int i = 0; i < nf; i++) {
            int f = compFlows[i];
            double r = newRate[f];
            if (r != rate[f]) {
                rate[f] = r;
                long eta = r > 0 ? now + (long) Math.ceil(remaining[f] / r) : Long.MAX_VALUE;
                // In a large component rates creep up by tiny steps; an earlier event is only worth adding (and
                // the old one left stale in the queue) when the finish moves by more than the batching delay.
                long slack = componentSize[path[f][0]] > largeComponent ? largeComponentDelay : 0;
                if (eta < pendingAt[f] - slack) {
                    int v = version[f];
                    pendingAt[f] = eta;
                    engine.at(eta, () -> completionDue(f, v, eta));
                }
            }
        }
    }

    private int heapPush(int n, double key, int link) {
        if (n == heapKeys.length) {
            heapKeys = Arrays.copyOf(heapKeys, n * 2);
            heapLinks = Arrays.copyOf(heapLinks, n * 2);
        }
        int i = n;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (heapKeys[p] <= key) {
                break;
            }
            heapKeys[i] = heapKeys[p];
            heapLinks[i] = heapLinks[p];
            i = p;
        }
        heapKeys[i] = key;
        heapLinks[i] = link;
        return n + 1;
    }

    private int heapPop(int n) {
        int last = n - 1;
        double key = heapKeys[last];
        int link = heapLinks[last];
        int i = 0;
        int half = last >>> 1;
        while (i < half) {
            int c = 2 * i + 1;
            if (c + 1 < last && heapKeys[c + 1] < heapKeys[c]) {
                c++;
            }
            if (heapKeys[c] >= key) {
                break;
            }
            heapKeys[i] = heapKeys[c];
            heapLinks[i] = heapLinks[c];
            i = c;
        }
        if (last > 0) {
            heapKeys[i] = key;
            heapLinks[i] = link;
        }
        return last;
    }
}
