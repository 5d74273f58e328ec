package org.oscircular.protocol.kad;

/**
 * Cost of one announce run.
 *
 * @param keys                 keys announced
 * @param lookups              FIND_NODE lookups run
 * @param lookupRpcs           FIND_NODE queries sent by those lookups
 * @param addProviderMessages  ADD_PROVIDER messages sent
 * @param providerRecords      (key, peer) records carried by those messages
 * @param medianLookupHops     median {@link LookupResult#hops()} of the lookups
 * @param startedAt            time of {@link AnnounceScheduler#start}
 * @param finishedAt           time the last ADD_PROVIDER was handed out
 */
public record AnnounceReport(int keys, int lookups, long lookupRpcs, long addProviderMessages,
                             long providerRecords, int medianLookupHops, long startedAt, long finishedAt) {

    /** All messages sent: lookup queries plus ADD_PROVIDER messages. */
    public long rpcs() {
        return lookupRpcs + addProviderMessages;
    }

    public long elapsedMillis() {
        return finishedAt - startedAt;
    }
}
