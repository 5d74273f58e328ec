package org.oscircular.protocol.kad;

/** A kad-dht message that cannot be accepted; the message says why in one line. The stream should be closed. */
public final class KadMessageException extends Exception {

    public KadMessageException(String message) {
        super(message);
    }
}
