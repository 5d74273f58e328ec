package org.oscircular.node.exchange;

import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;

/** Decides whether a peer's address is on one of this machine's local subnets (or is this machine). */
final class LanClassifier {
  private record Subnet(byte[] network, int prefix) {}

  private final List<Subnet> subnets;

  private LanClassifier(List<Subnet> subnets) {
    this.subnets = subnets;
  }

  static LanClassifier ofLocalInterfaces() {
    List<Subnet> out = new ArrayList<>();
    try {
      var ifaces = NetworkInterface.getNetworkInterfaces();
      while (ifaces != null && ifaces.hasMoreElements()) {
        NetworkInterface ni = ifaces.nextElement();
        if (!ni.isUp()) {
          continue;
        }
        for (InterfaceAddress a : ni.getInterfaceAddresses()) {
          out.add(new Subnet(a.getAddress().getAddress(), a.getNetworkPrefixLength()));
        }
      }
    } catch (SocketException e) {
      // No interfaces to compare with: only loopback counts as local.
    }
    return new LanClassifier(out);
  }

  boolean isLan(InetAddress peer) {
    if (peer.isLoopbackAddress()) {
      return true;
    }
    byte[] p = peer.getAddress();
    for (Subnet s : subnets) {
      if (s.network.length == p.length && samePrefix(s.network, p, s.prefix)) {
        return true;
      }
    }
    return false;
  }

  private static boolean samePrefix(byte[] a, byte[] b, int bits) {
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != b[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = 0xFF << (8 - rest) & 0xFF;
    return (a[full] & mask) == (b[full] & mask);
  }
}
