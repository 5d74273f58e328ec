package org.oscircular.protocol.format;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class CodecPropertiesTest {

  @Provide
  Arbitrary<byte[]> blockContents() {
    // Mix of random, repetitive and mostly-zero data, up to 64 KiB, as disk blocks are.
    Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(65536);
    Arbitrary<byte[]> repetitive = Arbitraries.strings().ofMaxLength(200)
        .map(s -> s.repeat(1 + 40000 / Math.max(1, s.length() + 1)).getBytes());
    return Arbitraries.oneOf(random, repetitive);
  }

  @Property(tries = 200)
  void everyCodecDecodesWhatItEncoded(@ForAll("blockContents") byte[] plain, @ForAll Codec codec) throws Exception {
    byte[] stored = codec.encode(plain, 0, plain.length);
    assertThat(codec.decode(stored, plain.length)).isEqualTo(plain);
  }

  @Property(tries = 100)
  void encodingRespectsOffsetAndLength(@ForAll("blockContents") byte[] plain, @ForAll Codec codec,
      @ForAll @IntRange(min = 0, max = 100) int cut) throws Exception {
    int off = Math.min(cut, plain.length);
    int len = plain.length - off;
    byte[] stored = codec.encode(plain, off, len);
    assertThat(codec.decode(stored, len)).isEqualTo(java.util.Arrays.copyOfRange(plain, off, plain.length));
  }

  @Property(tries = 100)
  void decodingIntoADirectBufferFromADirectOrHeapSourceMatchesDecodingAnArray(@ForAll("blockContents") byte[] plain, @ForAll Codec codec,
      @ForAll @IntRange(min = 0, max = 9) int pad, @ForAll boolean heapSource) throws Exception {
    byte[] stored = codec.encode(plain, 0, plain.length);
    // A heap source (a fetched block's array) as a slice, so its array offset is not 0 either.
    var src = heapSource ? java.nio.ByteBuffer.allocate(2 * pad + stored.length + pad).position(pad).slice()
        : java.nio.ByteBuffer.allocateDirect(pad + stored.length + pad);
    src.position(pad).put(stored).position(pad).limit(pad + stored.length);
    var dst = java.nio.ByteBuffer.allocateDirect(pad + plain.length + 3);
    dst.position(pad);
    codec.decodeInto(src, dst, plain.length);
    assertThat(dst.position()).isEqualTo(pad + plain.length);
    assertThat(src.position()).isEqualTo(pad);
    byte[] out = new byte[plain.length];
    dst.get(pad, out);
    assertThat(out).isEqualTo(codec.decode(stored, plain.length));
  }

  @Property(tries = 100)
  void decodingIntoABufferToTheWrongLengthOrFromDamagedBytesIsAnError(@ForAll("blockContents") byte[] plain,
      @ForAll Codec codec, @ForAll @IntRange(min = 0, max = 1000) int at, @ForAll boolean heapSource) {
    byte[] stored = codec.encode(plain, 0, plain.length);
    var src = (heapSource ? java.nio.ByteBuffer.allocate(stored.length) : java.nio.ByteBuffer.allocateDirect(stored.length))
        .put(stored).flip();
    var dst = java.nio.ByteBuffer.allocateDirect(plain.length + 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> codec.decodeInto(src, dst, plain.length + 1))
        .isInstanceOf(FormatException.class);
    assertThat(dst.position()).isZero();
    if (stored.length > 0 && codec != Codec.NONE) {
      // A truncated stream never decodes to the full length.
      var cut = src.duplicate().limit(Math.min(at, stored.length - 1));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> codec.decodeInto(cut, dst, plain.length))
          .isInstanceOf(FormatException.class);
      assertThat(dst.position()).isZero();
    }
  }

  @Property(tries = 100)
  void decodingToTheWrongLengthIsAnError(@ForAll("blockContents") byte[] plain, @ForAll Codec codec) {
    byte[] stored = codec.encode(plain, 0, plain.length);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> codec.decode(stored, plain.length + 1))
        .isInstanceOf(FormatException.class);
  }

  @Property(tries = 100)
  void encoderNamesBlocksBySha1OfStoredBytesAndVerifies(@ForAll("blockContents") byte[] plain, @ForAll Codec codec) {
    var enc = new BlockEncoder(codec).encode(plain, 0, plain.length);
    if (enc.entry() instanceof BlockEntry.Stored s) {
      assertThat(BlockVerifier.verify(s, enc.stored())).isEqualTo(BlockVerifier.Result.OK);
      assertThat(BlockVerifier.matchesName(s.name(), enc.stored())).isTrue();
    } else {
      assertThat(BlockEncoder.isZero(plain, 0, plain.length)).isTrue();
    }
  }
}
