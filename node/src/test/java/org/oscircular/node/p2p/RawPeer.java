package org.oscircular.node.p2p;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import org.oscircular.protocol.p2p.IdentityKey;
import org.oscircular.protocol.p2p.Multiaddr;
import org.oscircular.protocol.p2p.Multistream;
import org.oscircular.protocol.p2p.NoiseCipherState;
import org.oscircular.protocol.p2p.NoiseHandshake;
import org.oscircular.protocol.p2p.X25519;
import org.oscircular.protocol.p2p.YamuxHeader;

/** A hand-driven libp2p dialler on a blocking socket, for sending a host bytes no honest peer would. */
final class RawPeer implements AutoCloseable {
  final Socket socket;
  final DataInputStream in;
  final OutputStream out;
  private NoiseCipherState sender;

  RawPeer(Multiaddr addr) throws IOException {
    Multiaddr.HostPort hp = addr.tcpHostPort().orElseThrow();
    socket = new Socket(hp.host(), hp.port());
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  void sendRaw(byte[] b) throws IOException {
    out.write(b);
    out.flush();
  }

  /** Negotiates /noise and runs the handshake with {@code hs}; returns after message 3 is sent. */
  void secure(NoiseHandshake hs) throws IOException {
    sendRaw(Multistream.dialer(java.util.List.of(NoiseHandshake.PROTOCOL_ID)).start());
    readMultistream();
    readMultistream();
    sendFrame(hs.writeMessage());
    hs.readMessage(readFrame());
    sendFrame(hs.writeMessage());
    sender = hs.result().sender();
  }

  /** Secures the connection honestly and negotiates yamux without waiting for the answer. */
  void secureAndStartYamux() throws IOException {
    SecureRandom r = new SecureRandom();
    secure(NoiseHandshake.initiator(IdentityKey.generate(r), X25519.generate(r), X25519.generate(r), null));
    sendEncrypted(Multistream.dialer(java.util.List.of(YamuxSession.PROTOCOL_ID)).start());
  }

  void sendYamux(int type, int flags, int stream, long length, byte[] body) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(YamuxHeader.SIZE + body.length);
    new YamuxHeader(type, flags, stream, length).write(b);
    b.put(body);
    sendEncrypted(b.array());
  }

  void sendEncrypted(byte[] plain) throws IOException {
    for (int off = 0; off < plain.length; off += NoiseFrameEncoder.MAX_PLAINTEXT) {
      int n = Math.min(NoiseFrameEncoder.MAX_PLAINTEXT, plain.length - off);
      sendFrame(sender.encrypt(null, java.util.Arrays.copyOfRange(plain, off, off + n)));
    }
  }

  private void sendFrame(byte[] msg) throws IOException {
    byte[] f = new byte[2 + msg.length];
    f[0] = (byte) (msg.length >>> 8);
    f[1] = (byte) msg.length;
    System.arraycopy(msg, 0, f, 2, msg.length);
    sendRaw(f);
  }

  private byte[] readFrame() throws IOException {
    byte[] b = new byte[in.readUnsignedShort()];
    in.readFully(b);
    return b;
  }

  private void readMultistream() throws IOException {
    int len = in.readUnsignedByte();
    in.readFully(new byte[len]);
  }

  /** True once the host has closed the connection (reads until EOF, discarding). */
  boolean closedByHost() {
    try {
      while (in.read(new byte[4096]) >= 0) {
        // drain
      }
      return true;
    } catch (IOException e) {
      return e.getMessage() != null && e.getMessage().contains("reset");
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
