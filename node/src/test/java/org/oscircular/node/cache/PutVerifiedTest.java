package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Codec;

class PutVerifiedTest {
  @TempDir Path dir;

  @Test
  void cachesVerifiedBytesWithoutHashingAgainAndRefusesTheWrongLength() throws Exception {
    byte[] plain = new byte[32 * 1024];
    new SplittableRandom(9).nextBytes(plain);
    var enc = new BlockEncoder(Codec.NONE).encode(plain, 0, plain.length);
    var entry = (BlockEntry.Stored) enc.entry();
    try (var store = RocksBlockStore.open(dir.resolve("cache"), CacheConfig.withMaxBytes(16L << 20))) {
      assertThat(store.putVerified(entry, Arrays.copyOf(enc.stored(), 100)))
          .isEqualTo(RocksBlockStore.PutResult.REJECTED_UNVERIFIED);
      assertThat(store.contains(entry.name())).isFalse();
      assertThat(store.putVerified(entry, enc.stored())).isEqualTo(RocksBlockStore.PutResult.STORED);
      assertThat(store.get(entry)).hasValueSatisfying(b -> assertThat(b).isEqualTo(enc.stored()));
    }
  }
}
