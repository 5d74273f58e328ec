package org.oscircular.protocol.p2p;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.oscircular.protocol.p2p.proto.KeysProto;

/**
 * A node's Ed25519 identity key pair. Its {@link #peerId()} derives from the deterministic
 * {@code PublicKey} protobuf {@code 08 01 12 20 <32-byte key>}; its private form is the libp2p
 * {@code PrivateKey} protobuf whose data is {@code seed(32) || public(32)}.
 */
public final class IdentityKey {
  private final Ed25519PrivateKeyParameters privateKey;
  private final byte[] publicKeyBytes;
  private final byte[] publicKeyProto;
  private final PeerId peerId;

  private IdentityKey(byte[] seed) {
    this.privateKey = new Ed25519PrivateKeyParameters(seed, 0);
    this.publicKeyBytes = privateKey.generatePublicKey().getEncoded();
    this.publicKeyProto = encodePublicKey(publicKeyBytes);
    this.peerId = PeerId.fromPublicKey(publicKeyProto);
  }

  /** The key pair whose 32-byte Ed25519 seed is {@code seed}. */
  public static IdentityKey fromSeed(byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("Ed25519 seed must be 32 bytes, got " + seed.length);
    }
    return new IdentityKey(seed.clone());
  }

  public static IdentityKey generate(SecureRandom random) {
    byte[] seed = new byte[32];
    random.nextBytes(seed);
    return new IdentityKey(seed);
  }

  /** Parses a libp2p {@code PrivateKey} protobuf holding an Ed25519 key (64-byte or legacy 96-byte data). */
  public static IdentityKey fromPrivateKeyProto(byte[] bytes) {
    KeysProto.PrivateKey pk;
    try {
      pk = KeysProto.PrivateKey.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new WireFormatException("malformed libp2p PrivateKey protobuf", e);
    }
    if (pk.getType() != KeysProto.KeyType.Ed25519) {
      throw new WireFormatException("identity key must be Ed25519, got " + pk.getType());
    }
    byte[] data = pk.getData().toByteArray();
    if (data.length != 64 && data.length != 96) {
      throw new WireFormatException("Ed25519 private key data must be 64 bytes, got " + data.length);
    }
    IdentityKey key = fromSeed(Arrays.copyOf(data, 32));
    if (!Arrays.equals(key.publicKeyBytes, Arrays.copyOfRange(data, 32, 64))) {
      throw new WireFormatException("Ed25519 private key data: public half does not match the seed");
    }
    return key;
  }

  public byte[] toPrivateKeyProto() {
    byte[] data = new byte[64];
    System.arraycopy(privateKey.getEncoded(), 0, data, 0, 32);
    System.arraycopy(publicKeyBytes, 0, data, 32, 32);
    return KeysProto.PrivateKey.newBuilder()
        .setType(KeysProto.KeyType.Ed25519)
        .setData(ByteString.copyFrom(data))
        .build()
        .toByteArray();
  }

  /** The serialized {@code PublicKey} protobuf. */
  public byte[] publicKeyProto() {
    return publicKeyProto.clone();
  }

  public PeerId peerId() {
    return peerId;
  }

  public byte[] sign(byte[] message) {
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, privateKey);
    signer.update(message, 0, message.length);
    return signer.generateSignature();
  }

  /**
   * Verifies {@code signature} over {@code message} with a serialized {@code PublicKey} protobuf.
   * Only Ed25519 keys are supported; any other type fails verification with a format error.
   */
  public static boolean verify(byte[] publicKeyProto, byte[] message, byte[] signature) {
    KeysProto.PublicKey pk;
    try {
      pk = KeysProto.PublicKey.parseFrom(publicKeyProto);
    } catch (InvalidProtocolBufferException e) {
      throw new WireFormatException("malformed libp2p PublicKey protobuf", e);
    }
    if (pk.getType() != KeysProto.KeyType.Ed25519) {
      throw new WireFormatException("unsupported remote key type " + pk.getType() + " (only Ed25519)");
    }
    if (pk.getData().size() != 32) {
      throw new WireFormatException("Ed25519 public key must be 32 bytes, got " + pk.getData().size());
    }
    if (!Arrays.equals(encodePublicKey(pk.getData().toByteArray()), publicKeyProto)) {
      throw new WireFormatException("PublicKey protobuf is not deterministically encoded");
    }
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, new Ed25519PublicKeyParameters(pk.getData().toByteArray(), 0));
    verifier.update(message, 0, message.length);
    return verifier.verifySignature(signature);
  }

  static byte[] encodePublicKey(byte[] ed25519Public) {
    byte[] out = new byte[4 + ed25519Public.length];
    out[0] = 0x08;
    out[1] = 0x01;
    out[2] = 0x12;
    out[3] = (byte) ed25519Public.length;
    System.arraycopy(ed25519Public, 0, out, 4, ed25519Public.length);
    return out;
  }

  @Override
  public String toString() {
    return "IdentityKey[" + peerId + "]";
  }
}
