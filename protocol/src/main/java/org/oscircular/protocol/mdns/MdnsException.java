package org.oscircular.protocol.mdns;

/** An mDNS packet that cannot be read; the message says why in one line. */
public final class MdnsException extends Exception {

    public MdnsException(String message) {
        super(message);
    }
}
