package org.oscircular.protocol.exchange;

/** Whether the exchange may fetch from the HTTP origin. */
public enum OriginMode {
    /** Use the origin when no peer can serve a block, or to hedge a block that peers are slow to deliver. */
    FALLBACK,
    /** Never request anything from the origin; a block no peer can serve is reported unavailable. */
    NEVER
}
