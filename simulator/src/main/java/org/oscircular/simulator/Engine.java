package org.oscircular.simulator;

/** The discrete-event loop: a virtual clock in nanoseconds and the queue of what happens next. */
final class Engine {
    private final EventQueue queue = new EventQueue();
    private long now;
    private long fired;
    private boolean stopped;

    long now() {
        return now;
    }

    long eventsFired() {
        return fired;
    }

    int queued() {
        return queue.size();
    }

    /** Schedules {@code event} at absolute virtual time {@code at} (never in the past). */
    void at(long at, EventQueue.Event event) {
        queue.add(Math.max(at, now), event);
    }

    /** Schedules {@code event} {@code delay} nanoseconds from now. */
    void after(long delay, EventQueue.Event event) {
        queue.add(now + Math.max(0, delay), event);
    }

    void stop() {
        stopped = true;
    }

    /** Runs events in time order until the queue is empty, {@link #stop()} is called or time passes {@code until}. */
    void run(long until) {
        while (!stopped && !queue.isEmpty() && queue.peekTime() <= until) {
            now = queue.peekTime();
            queue.poll().fire();
            fired++;
        }
        if (!stopped && now < until && queue.isEmpty()) {
            return;
        }
        if (!stopped && !queue.isEmpty()) {
            now = until;
        }
    }
}
