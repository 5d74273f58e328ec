package org.oscircular.protocol.exchange;

import java.util.List;

/** What happened, as told to {@link BlockExchange#handle}. Block numbers are indices in the image table. */
public sealed interface ExchangeEvent {

    /** A reader needs this block (the driver has checked that it is not cached). */
    record Want(int block) implements ExchangeEvent {}

    /** Peers that claim to have a block (from the DHT, a LAN have-query, or a seed list). */
    record ProvidersFound(int block, List<Provider> providers) implements ExchangeEvent {
        public ProvidersFound {
            providers = List.copyOf(providers);
        }
    }

    /** A provider lookup started by {@link ExchangeAction.FindProviders} is over; no more providers will come. */
    record LookupFinished(int block) implements ExchangeEvent {}

    /**
     * A block arrived from {@code source} (a peer or {@link BlockExchange#ORIGIN}); the driver has hashed it and
     * says whether it matched the table.
     */
    record BlockReceived(long source, int block, boolean valid) implements ExchangeEvent {}

    /** A peer answered that it does not have the block. */
    record DontHave(long peer, int block) implements ExchangeEvent {}

    /**
     * The peer asked for {@code block} does not hold it yet but is loading it (a designated peer's or a seed's
     * fetch-through) and will answer: the request's timeout restarts and the origin hedge waits, as long as the
     * request is younger than {@link ExchangeConfig#maxFetchingWait()}. Neither a success nor a failure for the
     * peer's score. Ignored unless that peer carries the block's current request.
     */
    record PeerFetching(long peer, int block) implements ExchangeEvent {}

    /** A request failed outright (stream reset, HTTP error, connection refused). */
    record RequestFailed(long source, int block) implements ExchangeEvent {}

    /** A peer went away; all requests to it are lost. */
    record PeerDisconnected(long peer) implements ExchangeEvent {}

    /** Time passed; the driver calls this at or after {@link BlockExchange#nextDeadline()}. */
    record Tick() implements ExchangeEvent {}
}
