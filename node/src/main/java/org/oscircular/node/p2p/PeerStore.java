package org.oscircular.node.p2p;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.LinkedHashSet;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.PeerId;

/**
 * What this node knows about other peers: transport addresses (without {@code /p2p}), the protocols
 * and agent they reported in identify. Thread-safe; records are immutable snapshots.
 */
public final class PeerStore {
  /** A snapshot of one peer's record. */
  public record PeerInfo(PeerId id, List<Multiaddr> addresses, List<String> protocols, String agentVersion) {
    public PeerInfo {
      addresses = List.copyOf(addresses);
      protocols = List.copyOf(protocols);
    }

    public boolean supports(String protocol) {
      return protocols.contains(protocol);
    }
  }

  /** Most addresses kept per peer; older ones are dropped first. */
  static final int MAX_ADDRESSES = 32;

  private final ConcurrentHashMap<PeerId, PeerInfo> peers = new ConcurrentHashMap<>();

  public Optional<PeerInfo> get(PeerId id) {
    return Optional.ofNullable(peers.get(id));
  }

  public Set<PeerId> peers() {
    return Set.copyOf(peers.keySet());
  }

  /** Adds addresses (a {@code /p2p/…} suffix is stripped; duplicates ignored). */
  public void addAddresses(PeerId id, Collection<Multiaddr> addrs) {
    peers.compute(id, (k, old) -> {
      LinkedHashSet<Multiaddr> set = new LinkedHashSet<>();
      for (Multiaddr a : addrs) {
        set.add(a.withoutPeerId());
      }
      if (old != null) {
        set.addAll(old.addresses());
      }
      List<Multiaddr> list = set.stream().limit(MAX_ADDRESSES).toList();
      return old == null ? new PeerInfo(id, list, List.of(), "") : new PeerInfo(id, list, old.protocols(), old.agentVersion());
    });
  }

  /** Replaces the protocol list and agent with what the peer reported in identify. */
  public void setIdentify(PeerId id, List<String> protocols, String agentVersion) {
    peers.compute(id, (k, old) ->
        new PeerInfo(id, old == null ? List.of() : old.addresses(), protocols, agentVersion == null ? "" : agentVersion));
  }
}
