package org.oscircular.protocol.p2p;

import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.oscircular.protocol.p2p.proto.KeysProto;

/**
 * A libp2p peer id (peer-ids/peer-ids.md): the multihash of the peer's serialized {@code PublicKey}
 * protobuf, identity-hashed when the key is at most 42 bytes (Ed25519: {@code 00 24 08 01 12 20 <32 B>}),
 * sha2-256 otherwise. Text forms: bare base58btc ({@code 12D3KooW…}, {@code Qm…}) and CIDv1 with the
 * {@code libp2p-key} codec (0x72) in multibase ({@code bafz…}).
 */
public final class PeerId implements Comparable<PeerId> {
  /** Multicodec of CIDs that name peers. */
  public static final int LIBP2P_KEY_CODEC = 0x72;

  private static final int MAX_INLINE_KEY = 42;

  private final byte[] bytes;
  private final Multihash multihash;

  private PeerId(byte[] bytes, Multihash multihash) {
    this.bytes = bytes;
    this.multihash = multihash;
  }

  /** The peer id of a serialized {@code PublicKey} protobuf. */
  public static PeerId fromPublicKey(byte[] publicKeyProtobuf) {
    Multihash mh =
        publicKeyProtobuf.length <= MAX_INLINE_KEY
            ? Multihash.identity(publicKeyProtobuf)
            : Multihash.sha256(publicKeyProtobuf);
    return new PeerId(mh.toBytes(), mh);
  }

  /** Parses the binary form (a multihash), as carried in /p2p multiaddrs and DHT messages. */
  public static PeerId fromBytes(byte[] bytes) {
    Multihash mh = Multihash.fromBytes(bytes);
    if (mh.code() != Multihash.IDENTITY && mh.code() != Multihash.SHA2_256) {
      throw new WireFormatException(
          "peer id multihash must be identity or sha2-256, got code 0x" + Integer.toHexString(mh.code()));
    }
    if (mh.code() == Multihash.SHA2_256 && mh.digest().length != 32) {
      throw new WireFormatException("sha2-256 peer id digest must be 32 bytes");
    }
    return new PeerId(bytes.clone(), mh);
  }

  /** Parses either text form: base58btc multihash or a multibase CIDv1 with codec libp2p-key. */
  public static PeerId parse(String text) {
    if (text.startsWith("1") || text.startsWith("Qm")) {
      return fromBytes(Multibase.decodeBase58btc(text));
    }
    byte[] cid = Multibase.decode(text);
    ByteBuffer in = ByteBuffer.wrap(cid);
    long version = Varint.readComplete(in);
    if (version != 1) {
      throw new WireFormatException("peer id CID must be version 1, got " + version);
    }
    long codec = Varint.readComplete(in);
    if (codec != LIBP2P_KEY_CODEC) {
      throw new WireFormatException("peer id CID must have codec libp2p-key (0x72), got 0x" + Long.toHexString(codec));
    }
    byte[] rest = new byte[in.remaining()];
    in.get(rest);
    return fromBytes(rest);
  }

  /** The serialized public key, if the id inlines it (identity multihash), else null. */
  public byte[] inlinedPublicKey() {
    return multihash.code() == Multihash.IDENTITY ? multihash.digest() : null;
  }

  /** True if {@code publicKeyProtobuf} is the key this id names. */
  public boolean matches(byte[] publicKeyProtobuf) {
    return equals(fromPublicKey(publicKeyProtobuf));
  }

  /** Extracts the public key of an id whose multihash inlines it, checking that it parses. */
  public KeysProto.PublicKey publicKey() {
    byte[] inline = inlinedPublicKey();
    if (inline == null) {
      throw new WireFormatException("peer id " + this + " does not inline its public key");
    }
    try {
      return KeysProto.PublicKey.parseFrom(inline);
    } catch (InvalidProtocolBufferException e) {
      throw new WireFormatException("peer id inlines a malformed public key", e);
    }
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  public Multihash multihash() {
    return multihash;
  }

  /** CIDv1 text form, base32 lower case: {@code b} + base32(0x01 0x72 multihash). */
  public String toCidString() {
    byte[] cid = new byte[2 + bytes.length];
    cid[0] = 0x01;
    cid[1] = LIBP2P_KEY_CODEC;
    System.arraycopy(bytes, 0, cid, 2, bytes.length);
    return "b" + Multibase.base32(cid);
  }

  /** Base58btc text form, the one logs and multiaddrs use. */
  @Override
  public String toString() {
    return Multibase.base58btc(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PeerId p && Arrays.equals(p.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(PeerId o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }
}
