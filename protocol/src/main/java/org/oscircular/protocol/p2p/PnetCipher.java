package org.oscircular.protocol.p2p;

import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * One direction of a libp2p private-network connection (pnet/Private-Networks-PSK-V1.md): the XSalsa20
 * key stream of the pre-shared key and that direction's 24-byte nonce, XORed over every byte after
 * the nonce. There is no authentication at this layer (noise above provides it); a peer with another
 * key just produces noise that the next layer rejects. Not thread-safe.
 */
public final class PnetCipher {
  public static final int NONCE_SIZE = 24;

  private final XSalsa20Engine engine = new XSalsa20Engine();

  public PnetCipher(PreSharedKey psk, byte[] nonce) {
    if (nonce.length != NONCE_SIZE) {
      throw new IllegalArgumentException("pnet nonce must be 24 bytes, got " + nonce.length);
    }
    engine.init(true, new ParametersWithIV(new KeyParameter(psk.bytes()), nonce));
  }

  /** XORs the next {@code len} key-stream bytes over {@code in[inOff…]} into {@code out[outOff…]}. */
  public void apply(byte[] in, int inOff, int len, byte[] out, int outOff) {
    engine.processBytes(in, inOff, len, out, outOff);
  }
}
