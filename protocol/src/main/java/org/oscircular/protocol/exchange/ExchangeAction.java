package org.oscircular.protocol.exchange;

/** What {@link BlockExchange} asks its driver to do. */
public sealed interface ExchangeAction {

    /** Send a block request to a peer. */
    record Request(long peer, int block) implements ExchangeAction {}

    /** Fetch a block from the HTTP origin. */
    record RequestOrigin(int block) implements ExchangeAction {}

    /** Abandon an outstanding request to {@code source} (a peer or {@link BlockExchange#ORIGIN}). */
    record Cancel(long source, int block) implements ExchangeAction {}

    /** Start a provider lookup for a block (DHT and/or LAN have-query); answer with ProvidersFound and LookupFinished. */
    record FindProviders(int block) implements ExchangeAction {}

    /** A verified block: hand it to the readers and the cache. Sent once per wanted block. */
    record Deliver(int block, long source) implements ExchangeAction {}

    /** Close the connection to a peer that misbehaved; {@code banned} says whether it is now banned. */
    record Disconnect(long peer, boolean banned) implements ExchangeAction {}

    /** No allowed source could provide the block; readers of it get an I/O error. */
    record Unavailable(int block) implements ExchangeAction {}
}
