package org.oscircular.protocol.p2p;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A multiaddr (multiformats/multiaddr): a list of (protocol, value) components. Binary form
 * {@code (uvarint code || value)*}, where the value is fixed-size or {@code uvarint length || bytes};
 * text form {@code /name/value/name/value…}. Supports ip4, ip6, tcp, udp, dns, dns4, dns6, dnsaddr,
 * p2p (text alias ipfs), quic-v1 and ws.
 */
public record Multiaddr(List<Component> components) {
  /** Longest binary multiaddr accepted from the wire. */
  public static final int MAX_BYTES = 1024;

  /** The protocols this implementation knows; {@code size} is the value length, -1 for length-prefixed. */
  public enum Protocol {
    IP4(4, "ip4", 4),
    TCP(6, "tcp", 2),
    IP6(41, "ip6", 16),
    DNS(53, "dns", -1),
    DNS4(54, "dns4", -1),
    DNS6(55, "dns6", -1),
    DNSADDR(56, "dnsaddr", -1),
    UDP(273, "udp", 2),
    P2P(421, "p2p", -1),
    QUIC_V1(461, "quic-v1", 0),
    WS(477, "ws", 0);

    final int code;
    final String text;
    final int size;

    Protocol(int code, String text, int size) {
      this.code = code;
      this.text = text;
      this.size = size;
    }

    public int code() {
      return code;
    }

    static Protocol byCode(long code) {
      for (Protocol p : values()) {
        if (p.code == code) {
          return p;
        }
      }
      throw new WireFormatException("unsupported multiaddr protocol code " + code);
    }

    static Protocol byName(String name) {
      if (name.equals("ipfs")) {
        return P2P;
      }
      for (Protocol p : values()) {
        if (p.text.equals(name)) {
          return p;
        }
      }
      throw new WireFormatException("unsupported multiaddr protocol '" + name + "'");
    }
  }

  /** One component; {@code value} is the binary value (without the length prefix). */
  public record Component(Protocol protocol, byte[] value) {
    public Component {
      value = value.clone();
      if (protocol.size >= 0 && value.length != protocol.size) {
        throw new WireFormatException(
            protocol.text + " value must be " + protocol.size + " bytes, got " + value.length);
      }
      if (protocol == Protocol.P2P) {
        PeerId.fromBytes(value);
      }
    }

    @Override
    public byte[] value() {
      return value.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Component c && c.protocol == protocol && Arrays.equals(c.value, value);
    }

    @Override
    public int hashCode() {
      return protocol.hashCode() * 31 + Arrays.hashCode(value);
    }

    String valueText() {
      return switch (protocol) {
        case IP4 -> (value[0] & 0xFF) + "." + (value[1] & 0xFF) + "." + (value[2] & 0xFF) + "." + (value[3] & 0xFF);
        case IP6 -> {
          String[] groups = new String[8];
          for (int i = 0; i < 8; i++) {
            groups[i] = Integer.toHexString(((value[2 * i] & 0xFF) << 8) | (value[2 * i + 1] & 0xFF));
          }
          yield compressIp6(String.join(":", groups));
        }
        case TCP, UDP -> Integer.toString(((value[0] & 0xFF) << 8) | (value[1] & 0xFF));
        case DNS, DNS4, DNS6, DNSADDR -> new String(value, StandardCharsets.UTF_8);
        case P2P -> PeerId.fromBytes(value).toString();
        case QUIC_V1, WS -> "";
      };
    }
  }

  public Multiaddr {
    components = List.copyOf(components);
  }

  public static Multiaddr of(Component... components) {
    return new Multiaddr(List.of(components));
  }

  /** {@code /ip4/a.b.c.d/tcp/port} or {@code /ip6/…/tcp/port} for a numeric address. */
  public static Multiaddr tcp(InetAddress address, int port) {
    Protocol ip = address.getAddress().length == 4 ? Protocol.IP4 : Protocol.IP6;
    return of(new Component(ip, address.getAddress()), new Component(Protocol.TCP, port(port)));
  }

  public static Multiaddr parse(String text) {
    if (!text.startsWith("/")) {
      throw new WireFormatException("multiaddr must start with '/': " + text);
    }
    String[] parts = text.substring(1).split("/", -1);
    List<Component> out = new ArrayList<>();
    int i = 0;
    if (parts.length == 1 && parts[0].isEmpty()) {
      return new Multiaddr(out);
    }
    while (i < parts.length) {
      Protocol p = Protocol.byName(parts[i++]);
      if (p.size == 0) {
        out.add(new Component(p, new byte[0]));
        continue;
      }
      if (i >= parts.length || parts[i].isEmpty()) {
        throw new WireFormatException("multiaddr component /" + p.text + " has no value in " + text);
      }
      out.add(new Component(p, valueFromText(p, parts[i++])));
    }
    return new Multiaddr(out);
  }

  public static Multiaddr fromBytes(byte[] bytes) {
    if (bytes.length > MAX_BYTES) {
      throw new WireFormatException("multiaddr of " + bytes.length + " bytes exceeds " + MAX_BYTES);
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    List<Component> out = new ArrayList<>();
    while (in.hasRemaining()) {
      Protocol p = Protocol.byCode(Varint.readComplete(in));
      int len = p.size >= 0 ? p.size : Varint.readLength(in, MAX_BYTES);
      if (in.remaining() < len) {
        throw new WireFormatException("multiaddr /" + p.text + " value truncated");
      }
      byte[] v = new byte[len];
      in.get(v);
      if (p == Protocol.DNS || p == Protocol.DNS4 || p == Protocol.DNS6 || p == Protocol.DNSADDR) {
        checkDnsName(new String(v, StandardCharsets.UTF_8));
      }
      out.add(new Component(p, v));
    }
    return new Multiaddr(out);
  }

  public byte[] toBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Component c : components) {
      out.writeBytes(Varint.encode(c.protocol.code));
      if (c.protocol.size < 0) {
        out.writeBytes(Varint.encode(c.value.length));
      }
      out.writeBytes(c.value);
    }
    return out.toByteArray();
  }

  /** The peer id of a trailing {@code /p2p/<id>}, if any. */
  public Optional<PeerId> peerId() {
    if (!components.isEmpty() && components.getLast().protocol == Protocol.P2P) {
      return Optional.of(PeerId.fromBytes(components.getLast().value));
    }
    return Optional.empty();
  }

  /** This address without a trailing {@code /p2p/<id>}. */
  public Multiaddr withoutPeerId() {
    return peerId().isPresent() ? new Multiaddr(components.subList(0, components.size() - 1)) : this;
  }

  /** This address ending in {@code /p2p/<id>} (replacing any id already there). */
  public Multiaddr withPeerId(PeerId id) {
    List<Component> c = new ArrayList<>(withoutPeerId().components);
    c.add(new Component(Protocol.P2P, id.toBytes()));
    return new Multiaddr(c);
  }

  /** Host (IP literal or DNS name) and TCP port of an {@code /ip4|ip6|dns*\/…/tcp/…} address. */
  public Optional<HostPort> tcpHostPort() {
    if (components.size() < 2 || components.get(1).protocol != Protocol.TCP) {
      return Optional.empty();
    }
    Component host = components.get(0);
    return switch (host.protocol) {
      case IP4, IP6, DNS, DNS4, DNS6 ->
          Optional.of(new HostPort(host.valueText(), Integer.parseInt(components.get(1).valueText())));
      default -> Optional.empty();
    };
  }

  /** A host (IP literal or DNS name) and port. */
  public record HostPort(String host, int port) {}

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Component c : components) {
      sb.append('/').append(c.protocol.text);
      if (c.protocol.size != 0) {
        sb.append('/').append(c.valueText());
      }
    }
    return sb.toString();
  }

  private static byte[] valueFromText(Protocol p, String v) {
    return switch (p) {
      case IP4 -> ipLiteral(v, 4);
      case IP6 -> ipLiteral(v, 16);
      case TCP, UDP -> {
        int port;
        try {
          port = Integer.parseInt(v);
        } catch (NumberFormatException e) {
          throw new WireFormatException("invalid port '" + v + "'");
        }
        yield port(port);
      }
      case DNS, DNS4, DNS6, DNSADDR -> {
        checkDnsName(v);
        yield v.getBytes(StandardCharsets.UTF_8);
      }
      case P2P -> PeerId.parse(v).toBytes();
      case QUIC_V1, WS -> new byte[0];
    };
  }

  private static void checkDnsName(String name) {
    if (name.isEmpty() || name.length() > 253 || name.contains("/")) {
      throw new WireFormatException("invalid DNS name in multiaddr: '" + name + "'");
    }
  }

  private static byte[] port(int port) {
    if (port < 0 || port > 65535) {
      throw new WireFormatException("port " + port + " out of range 0..65535");
    }
    return new byte[] {(byte) (port >>> 8), (byte) port};
  }

  private static byte[] ipLiteral(String v, int len) {
    boolean looksNumeric =
        len == 4 ? v.matches("\\d{1,3}(\\.\\d{1,3}){3}") : v.contains(":") && v.matches("[0-9a-fA-F:.]+");
    if (!looksNumeric) {
      throw new WireFormatException("invalid ip" + (len == 4 ? "4" : "6") + " address '" + v + "'");
    }
    byte[] b;
    try {
      b = InetAddress.getByName(v).getAddress();
    } catch (UnknownHostException e) {
      throw new WireFormatException("invalid IP address '" + v + "'");
    }
    if (b.length != len) {
      if (len == 16 && b.length == 4) {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(b, 0, mapped, 12, 4);
        return mapped;
      }
      throw new WireFormatException("invalid ip" + (len == 4 ? "4" : "6") + " address '" + v + "'");
    }
    return b;
  }

  private static String compressIp6(String full) {
    // InetAddress prints every group; collapse the longest run of zero groups as RFC 5952 does.
    String[] groups = full.split(":");
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < groups.length; ) {
      if (groups[i].equals("0")) {
        int j = i;
        while (j < groups.length && groups[j].equals("0")) {
          j++;
        }
        if (j - i > bestLen && j - i > 1) {
          bestStart = i;
          bestLen = j - i;
        }
        i = j;
      } else {
        i++;
      }
    }
    if (bestStart < 0) {
      return full;
    }
    String head = String.join(":", Arrays.copyOfRange(groups, 0, bestStart));
    String tail = String.join(":", Arrays.copyOfRange(groups, bestStart + bestLen, groups.length));
    return head + "::" + tail;
  }
}
