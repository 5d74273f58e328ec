package org.oscircular.protocol.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class CatalogCodecTest {

  @Property(tries = 300)
  void decodeOfEncodeIsIdentity(@ForAll long seed) throws Exception {
    Catalog c = FormatArbitraries.randomCatalog(seed);
    assertThat(CatalogCodec.decode(CatalogCodec.encode(c))).isEqualTo(c);
  }

  @Property(tries = 100)
  void everyTruncationIsRejected(@ForAll long seed) {
    byte[] full = CatalogCodec.encode(FormatArbitraries.randomCatalog(seed));
    int cut = (int) Math.floorMod(seed, full.length);
    assertThatThrownBy(() -> CatalogCodec.decode(Arrays.copyOf(full, cut))).isInstanceOf(FormatException.class);
  }

  @Test
  void refusesTheSameVersionListedTwice() {
    var e = new Catalog.Entry("debian", "12", new byte[32], 512, Instant.EPOCH, false);
    assertThatThrownBy(() -> new Catalog(1, Instant.EPOCH, Instant.EPOCH, List.of(e, e)))
        .hasMessage("catalog lists debian:12 twice");
  }

  @Test
  void requireNamesTheMissingVersion() {
    var c = new Catalog(1, Instant.EPOCH, Instant.EPOCH, List.of());
    assertThatThrownBy(() -> c.require("debian:13")).hasMessage("the catalog has no debian:13");
    assertThatThrownBy(() -> c.require("debian")).hasMessage("expected IMAGE:VERSION, got 'debian'");
  }
}
