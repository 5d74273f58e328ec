package org.oscircular.protocol.p2p;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Noise CipherState for ChaChaPoly: a 32-byte key and a 64-bit counter nonce, encoded as
 * {@code 00 00 00 00 || uint64 little-endian}. One {@link Cipher} is reused, re-initialised per
 * message. Not thread-safe: each direction of a connection owns one.
 */
public final class NoiseCipherState {
  /** Bytes the Poly1305 tag adds to each message. */
  public static final int TAG = 16;

  private final SecretKeySpec key;
  private final Cipher cipher;
  private final byte[] iv = new byte[12];
  private long nonce;

  NoiseCipherState(byte[] key) {
    this.key = new SecretKeySpec(key, "ChaCha20");
    try {
      this.cipher = Cipher.getInstance("ChaCha20-Poly1305");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ChaCha20-Poly1305 is not available in this JDK", e);
    }
  }

  public long nonce() {
    return nonce;
  }

  /** Encrypts {@code in} into {@code out} (which needs {@code in.remaining() + TAG} bytes). */
  public void encrypt(byte[] ad, ByteBuffer in, ByteBuffer out) {
    init(Cipher.ENCRYPT_MODE, ad);
    try {
      cipher.doFinal(in, out);
    } catch (ShortBufferException e) {
      throw new IllegalArgumentException("output buffer too small for the noise message", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Encrypts {@code len} bytes of {@code buf} at {@code off} in place (no associated data, the
   * transport case) and writes the tag right after them; {@code buf} needs {@code off + len + TAG}
   * bytes. Returns {@code len + TAG}.
   */
  public int encryptInPlace(byte[] buf, int off, int len) {
    init(Cipher.ENCRYPT_MODE, null);
    try {
      return cipher.doFinal(buf, off, len, buf, off);
    } catch (ShortBufferException e) {
      throw new IllegalArgumentException("buffer too small for the noise message", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Decrypts the {@code len}-byte message (ciphertext and tag) at {@code off} of {@code buf} in place
   * (no associated data). Returns the plaintext length, {@code len - TAG}.
   *
   * @throws WireFormatException if authentication fails; the buffer's bytes are then unspecified
   */
  public int decryptInPlace(byte[] buf, int off, int len) {
    if (len < TAG) {
      throw new WireFormatException("noise message shorter than its authentication tag");
    }
    init(Cipher.DECRYPT_MODE, null);
    try {
      return cipher.doFinal(buf, off, len, buf, off);
    } catch (AEADBadTagException e) {
      throw new WireFormatException("noise message failed authentication (nonce " + (nonce - 1) + ")");
    } catch (ShortBufferException e) {
      throw new IllegalArgumentException("buffer too small for the noise message", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public byte[] encrypt(byte[] ad, byte[] plaintext) {
    ByteBuffer out = ByteBuffer.allocate(plaintext.length + TAG);
    encrypt(ad, ByteBuffer.wrap(plaintext), out);
    return out.array();
  }

  /**
   * Decrypts {@code in} (ciphertext and tag) into {@code out}.
   *
   * @throws WireFormatException if authentication fails
   */
  public void decrypt(byte[] ad, ByteBuffer in, ByteBuffer out) {
    if (in.remaining() < TAG) {
      throw new WireFormatException("noise message shorter than its authentication tag");
    }
    init(Cipher.DECRYPT_MODE, ad);
    try {
      cipher.doFinal(in, out);
    } catch (AEADBadTagException e) {
      throw new WireFormatException("noise message failed authentication (nonce " + (nonce - 1) + ")");
    } catch (ShortBufferException e) {
      throw new IllegalArgumentException("output buffer too small for the noise message", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public byte[] decrypt(byte[] ad, byte[] ciphertext) {
    if (ciphertext.length < TAG) {
      throw new WireFormatException("noise message shorter than its authentication tag");
    }
    ByteBuffer out = ByteBuffer.allocate(ciphertext.length - TAG);
    decrypt(ad, ByteBuffer.wrap(ciphertext), out);
    return out.array();
  }

  private void init(int mode, byte[] ad) {
    if (nonce == -1L) {
      throw new IllegalStateException("noise nonce exhausted; the connection must be re-established");
    }
    long n = nonce++;
    for (int i = 0; i < 8; i++) {
      iv[4 + i] = (byte) (n >>> (8 * i));
    }
    try {
      cipher.init(mode, key, new IvParameterSpec(iv));
      if (ad != null && ad.length > 0) {
        cipher.updateAAD(ad);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
