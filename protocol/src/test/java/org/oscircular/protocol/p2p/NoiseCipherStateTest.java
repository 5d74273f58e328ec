package org.oscircular.protocol.p2p;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class NoiseCipherStateTest {
  @Property(tries = 50)
  void inPlaceEncryptionMatchesTheCopyingOneAndDecryptsBack(@ForAll @Size(32) byte[] key,
      @ForAll @Size(max = 3000) byte[] plain, @ForAll @IntRange(max = 7) int offset) {
    byte[] expected = new NoiseCipherState(key).encrypt(null, plain);

    byte[] buf = new byte[offset + plain.length + NoiseCipherState.TAG];
    System.arraycopy(plain, 0, buf, offset, plain.length);
    assertEquals(plain.length + NoiseCipherState.TAG, new NoiseCipherState(key).encryptInPlace(buf, offset, plain.length));
    assertArrayEquals(expected, Arrays.copyOfRange(buf, offset, buf.length));

    assertEquals(plain.length, new NoiseCipherState(key).decryptInPlace(buf, offset, buf.length - offset));
    assertArrayEquals(plain, Arrays.copyOfRange(buf, offset, offset + plain.length));
  }

  @Property(tries = 30)
  void inPlaceDecryptionRejectsAnyFlippedBit(@ForAll @Size(32) byte[] key, @ForAll @Size(min = 1, max = 500) byte[] plain,
      @ForAll @IntRange(max = 10_000) int position) {
    byte[] sealed = new NoiseCipherState(key).encrypt(null, plain);
    sealed[position % sealed.length] ^= (byte) (1 << (position % 8));
    assertThrows(WireFormatException.class, () -> new NoiseCipherState(key).decryptInPlace(sealed, 0, sealed.length));
  }

  @Property(tries = 10)
  void eachMessageUsesTheNextNonce(@ForAll @Size(32) byte[] key, @ForAll @Size(max = 100) byte[] plain) {
    NoiseCipherState sender = new NoiseCipherState(key);
    NoiseCipherState receiver = new NoiseCipherState(key);
    for (int i = 0; i < 3; i++) {
      byte[] buf = Arrays.copyOf(plain, plain.length + NoiseCipherState.TAG);
      sender.encryptInPlace(buf, 0, plain.length);
      assertArrayEquals(plain, receiver.decrypt(null, buf));
    }
    assertEquals(3, sender.nonce());
  }
}
