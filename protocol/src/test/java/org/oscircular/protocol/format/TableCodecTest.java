package org.oscircular.protocol.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class TableCodecTest {

  @Property(tries = 300)
  void decodeOfEncodeIsIdentity(@ForAll long seed) throws Exception {
    ImageTable t = FormatArbitraries.randomTable(seed);
    assertThat(TableCodec.decode(TableCodec.encode(t))).isEqualTo(t);
  }

  @Property(tries = 100)
  void everyTruncationIsRejected(@ForAll long seed) {
    byte[] full = TableCodec.encode(FormatArbitraries.randomTable(seed));
    int cut = (int) Math.floorMod(seed, full.length);
    assertThatThrownBy(() -> TableCodec.decode(Arrays.copyOf(full, cut))).isInstanceOf(FormatException.class);
  }

  @Test
  void aFourGigabyteImageTableStaysUnderOneMebibyte() throws Exception {
    var r = new SplittableRandom(1);
    List<BlockEntry> blocks = new ArrayList<>();
    for (int i = 0; i < 16384; i++) {
      byte[] sha1 = new byte[20];
      byte[] sha256 = new byte[32];
      r.nextBytes(sha1);
      r.nextBytes(sha256);
      blocks.add(new BlockEntry.Stored(new BlockName(sha1), sha256, 100_000 + r.nextInt(160_000)));
    }
    var t = new ImageTable("debian", "12.8", 256 * 1024, Codec.ZSTD, Instant.EPOCH, Instant.EPOCH.plusSeconds(1),
        new Blob(16384L * 256 * 1024, blocks), Map.of(), Map.of(), List.of());
    byte[] enc = TableCodec.encode(t);
    assertThat(enc.length).isLessThan(1024 * 1024);
    assertThat(TableCodec.decode(enc)).isEqualTo(t);
  }

  @Test
  void zeroRunsCostAlmostNothing() throws Exception {
    var t = new ImageTable("sparse", "1", 4096, Codec.NONE, Instant.EPOCH, Instant.EPOCH,
        new Blob(1L << 32, java.util.Collections.nCopies(1 << 20, BlockEntry.Zero.INSTANCE)),
        Map.of(), Map.of(), List.of());
    assertThat(TableCodec.encode(t).length).isLessThan(100);
  }

  @Test
  void rejectsABlockSizeThatIsNotAPowerOfTwo() {
    assertThatThrownBy(() -> ImageTable.checkBlockSize(300 * 1024))
        .hasMessage("block size must be a power of two from 4 KiB to 4 MiB, got 307200 bytes");
    assertThatThrownBy(() -> ImageTable.checkBlockSize(8 * 1024 * 1024)).hasMessageContaining("power of two");
  }

  @Test
  void rejectsUnsafeNames() {
    assertThatThrownBy(() -> ImageTable.checkName("image name", "../etc")).hasMessageContaining("image name must be");
    assertThatThrownBy(() -> ImageTable.checkName("version", "")).hasMessageContaining("version must be");
  }

  @Test
  void rejectsWrongMagicAndUnknownVersion() {
    byte[] enc = TableCodec.encode(FormatArbitraries.randomTable(7));
    byte[] badMagic = enc.clone();
    badMagic[0] = 'X';
    assertThatThrownBy(() -> TableCodec.decode(badMagic)).hasMessage("table: not an OS Circular table (bad magic)");
    byte[] badVersion = enc.clone();
    badVersion[5] = 9;
    assertThatThrownBy(() -> TableCodec.decode(badVersion)).hasMessageContaining("unsupported table format version 9");
  }

  @Test
  void rejectsTrailingBytes() {
    byte[] enc = TableCodec.encode(FormatArbitraries.randomTable(8));
    assertThatThrownBy(() -> TableCodec.decode(Arrays.copyOf(enc, enc.length + 1)))
        .hasMessage("table has 1 unexpected trailing bytes");
  }
}
