package org.oscircular.simulator;

/** One block request in progress, from the moment it is sent until the block arrives or it is abandoned. */
final class Transfer {
    final NodeDriver requester;
    /** Serving host, or null for the origin. */
    final Host server;
    final int block;
    final Source source;
    int flow = -1;
    boolean cancelled;
    boolean corrupt;
    /** The server is loading the block for this request (fetch-through) and sends Fetching notices. */
    boolean loading;

    Transfer(NodeDriver requester, Host server, int block, Source source) {
        this.requester = requester;
        this.server = server;
        this.block = block;
        this.source = source;
    }

    long sourceId() {
        return server == null ? org.oscircular.protocol.exchange.BlockExchange.ORIGIN : server.id;
    }
}
