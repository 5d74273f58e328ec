package org.oscircular.node.nbd;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A byte-level NBD client for tests: sends exactly what it is told, well-formed or not. */
final class RawNbdClient implements AutoCloseable {
  final Socket socket;
  final DataInputStream in;
  final DataOutputStream out;

  record OptionReply(int option, int type, byte[] data) {
    String text() {
      return new String(data, StandardCharsets.UTF_8);
    }
  }

  record SimpleReply(int error, long cookie) {}

  RawNbdClient(InetSocketAddress server) throws IOException {
    socket = new Socket();
    socket.connect(server, 5_000);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = new DataOutputStream(socket.getOutputStream());
  }

  /** Reads the server greeting and returns the handshake flags. */
  int greeting() throws IOException {
    long magic = in.readLong();
    long opt = in.readLong();
    if (magic != NbdWire.NBDMAGIC || opt != NbdWire.IHAVEOPT) {
      throw new IOException("bad greeting");
    }
    return in.readUnsignedShort();
  }

  /** Greeting plus client flags (fixed newstyle, no zeroes). */
  RawNbdClient handshake() throws IOException {
    greeting();
    out.writeInt(NbdWire.CLIENT_FLAG_FIXED_NEWSTYLE | NbdWire.CLIENT_FLAG_NO_ZEROES);
    out.flush();
    return this;
  }

  /** The bytes of an option, to send several messages at once with {@link #send}. */
  static byte[] option(int option, byte[] data) {
    return ByteBuffer.allocate(16 + data.length)
        .putLong(NbdWire.IHAVEOPT).putInt(option).putInt(data.length).put(data).array();
  }

  /** The bytes of a request without payload, to send with {@link #send}. */
  static byte[] requestBytes(int flags, int type, long cookie, long offset, long length) {
    return ByteBuffer.allocate(28).putInt(NbdWire.REQUEST_MAGIC).putShort((short) flags)
        .putShort((short) type).putLong(cookie).putLong(offset).putInt((int) length).array();
  }

  /** Sends {@code messages} in one write, without waiting for any reply (pipelined). */
  void send(byte[]... messages) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] m : messages) {
      all.write(m);
    }
    out.write(all.toByteArray());
    out.flush();
  }

  /**
   * The final reply to an NBD_OPT_INFO / NBD_OPT_GO, and the preferred block size of the NBD_INFO_BLOCK_SIZE
   * before it (0 if there was none).
   */
  record InfoAnswer(OptionReply last, int preferredBlockSize) {}

  /** Sends NBD_OPT_INFO or NBD_OPT_GO for {@code name}, asking for the block sizes, and reads the answer. */
  InfoAnswer info(int option, String name) throws IOException {
    sendOption(option, infoData(name, NbdWire.INFO_BLOCK_SIZE));
    return readInfoAnswer();
  }

  /** Reads the NBD_REP_INFOs of an NBD_OPT_INFO / NBD_OPT_GO up to its final reply. */
  InfoAnswer readInfoAnswer() throws IOException {
    int preferred = 0;
    OptionReply r;
    while ((r = readOptionReply()).type() == NbdWire.REP_INFO) {
      ByteBuffer b = ByteBuffer.wrap(r.data());
      if (b.getShort() == NbdWire.INFO_BLOCK_SIZE) {
        b.getInt(); // minimum
        preferred = b.getInt();
      }
    }
    return new InfoAnswer(r, preferred);
  }

  void sendOption(int option, byte[] data) throws IOException {
    out.writeLong(NbdWire.IHAVEOPT);
    out.writeInt(option);
    out.writeInt(data.length);
    out.write(data);
    out.flush();
  }

  OptionReply readOptionReply() throws IOException {
    long magic = in.readLong();
    if (magic != NbdWire.OPTION_REPLY_MAGIC) {
      throw new IOException("bad option reply magic " + Long.toHexString(magic));
    }
    int option = in.readInt();
    int type = in.readInt();
    byte[] data = new byte[in.readInt()];
    in.readFully(data);
    return new OptionReply(option, type, data);
  }

  static byte[] infoData(String name, int... infos) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
    b.putInt(n.length).put(n).putShort((short) infos.length);
    for (int i : infos) {
      b.putShort((short) i);
    }
    return b.array();
  }

  /** Data of NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: export name, then the queries. */
  static byte[] metaData(String name, String... queries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(bytes);
    try {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      d.writeInt(n.length);
      d.write(n);
      d.writeInt(queries.length);
      for (String q : queries) {
        byte[] b = q.getBytes(StandardCharsets.UTF_8);
        d.writeInt(b.length);
        d.write(b);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** One NBD_REP_META_CONTEXT reply's content. */
  record MetaContext(int id, String name) {}

  /**
   * Sends a meta context option and returns the NBD_REP_META_CONTEXT replies; {@code last[0]} gets
   * the reply that ended them (NBD_REP_ACK or an error).
   */
  List<MetaContext> metaContexts(int option, byte[] data, OptionReply[] last) throws IOException {
    sendOption(option, data);
    List<MetaContext> contexts = new ArrayList<>();
    OptionReply r;
    while ((r = readOptionReply()).type() == NbdWire.REP_META_CONTEXT) {
      ByteBuffer b = ByteBuffer.wrap(r.data());
      int id = b.getInt();
      contexts.add(new MetaContext(id, new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8)));
    }
    last[0] = r;
    return contexts;
  }

  /** A structured reply chunk: its flags, type, cookie and payload. */
  record Chunk(int flags, int type, long cookie, byte[] payload) {}

  Chunk readChunk() throws IOException {
    int magic = in.readInt();
    if (magic != NbdWire.STRUCTURED_REPLY_MAGIC) {
      throw new IOException("bad structured reply magic " + Integer.toHexString(magic));
    }
    int flags = in.readUnsignedShort();
    int type = in.readUnsignedShort();
    long cookie = in.readLong();
    byte[] payload = new byte[in.readInt()];
    in.readFully(payload);
    return new Chunk(flags, type, cookie, payload);
  }

  /** NBD_OPT_GO for {@code name}; reads replies up to the final one, which it returns. */
  OptionReply go(String name) throws IOException {
    sendOption(NbdWire.OPT_GO, infoData(name, NbdWire.INFO_BLOCK_SIZE));
    OptionReply r;
    do {
      r = readOptionReply();
    } while (r.type() == NbdWire.REP_INFO);
    return r;
  }

  void request(int flags, int type, long cookie, long offset, long length) throws IOException {
    out.writeInt(NbdWire.REQUEST_MAGIC);
    out.writeShort(flags);
    out.writeShort(type);
    out.writeLong(cookie);
    out.writeLong(offset);
    out.writeInt((int) length);
    out.flush();
  }

  SimpleReply readSimpleReply() throws IOException {
    int magic = in.readInt();
    if (magic != NbdWire.SIMPLE_REPLY_MAGIC) {
      throw new IOException("bad reply magic " + Integer.toHexString(magic));
    }
    return new SimpleReply(in.readInt(), in.readLong());
  }

  byte[] readBytes(int n) throws IOException {
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }

  /** True if the server closes the connection (EOF or reset) within the socket timeout. */
  boolean closedByServer() throws IOException {
    try {
      ByteArrayOutputStream junk = new ByteArrayOutputStream();
      byte[] buf = new byte[4096];
      int n;
      while ((n = in.read(buf)) >= 0) {
        junk.write(buf, 0, n);
        if (junk.size() > 1 << 20) {
          return false;
        }
      }
      return true;
    } catch (EOFException | SocketException e) {
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
