package org.oscircular.node.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BootProfileTest {
  static final int BS = 64 * 1024;
  static final long LEN = 10L * BS;

  @Test
  void readsIndicesAndByteOffsetsInOrderKeepingFirstOccurrences() {
    String text = """
        # boot order
        3
        @0            # superblock
        @0x20000      # block 2
        3
        @131073
        9
        """;
    assertThat(BootProfile.parse(text, "p.txt", LEN, BS)).containsExactly(3, 0, 2, 9);
  }

  @Test
  void namesTheLineOfAnIndexOutsideTheImage() {
    assertThatThrownBy(() -> BootProfile.parse("1\n\n10\n", "p.txt", LEN, BS))
        .hasMessage("p.txt line 3: block 10 is outside the image (10 blocks of 65536 bytes)");
  }

  @Test
  void namesTheLineOfAnOffsetOutsideTheImage() {
    assertThatThrownBy(() -> BootProfile.parse("@655360", "p.txt", LEN, BS))
        .hasMessage("p.txt line 1: offset 655360 is outside the image (655360 bytes)");
  }

  @Test
  void namesTheLineOfSomethingThatIsNotANumber() {
    assertThatThrownBy(() -> BootProfile.parse("0\nkernel\n", "p.txt", LEN, BS))
        .hasMessage("p.txt line 2: expected a block index or @byte-offset, got 'kernel'");
  }
}
