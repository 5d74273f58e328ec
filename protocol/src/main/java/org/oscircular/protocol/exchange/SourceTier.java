package org.oscircular.protocol.exchange;

/**
 * Where a peer sits relative to this node, in order of preference: LAN peers first, then campus seeds, then
 * peers further away. The HTTP origin is not a tier: it is the fallback of last resort, governed separately.
 */
public enum SourceTier {
    /** A peer on the same LAN (found by mDNS or the DHT, same subnet or low RTT). */
    LAN,
    /** A seed: a campus mirror that pins and preheats images. */
    SEED,
    /** Any other peer (another campus, found through the DHT). */
    REMOTE
}
