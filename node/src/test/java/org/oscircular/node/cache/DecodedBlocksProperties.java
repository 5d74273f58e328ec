package org.oscircular.node.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Any sequence of writes, reads, damage to the files on disk (bytes of a block; entries while closed, as a
 * power loss could leave them), reopens and removals: a read returns the exact plaintext or nothing, the
 * tier stays under its bound, and what it counts is what its index files on disk hold.
 */
class DecodedBlocksProperties {
  static final int BLOCK = 4096;
  static final int VERSIONS = 3;
  static final long LENGTH = 5L * BLOCK + 1000; // 6 blocks, the last one short
  static final long BOUND = 9L * BLOCK;

  sealed interface Op permits Write, Read, DamageBlock, DamageEntryWhileClosed, Reopen, Remove {}

  record Write(int version, int block) implements Op {}

  record Read(int version, int block) implements Op {}

  record DamageBlock(int version, int block, int at) implements Op {}

  record DamageEntryWhileClosed(int version, int block) implements Op {}

  record Reopen() implements Op {}

  record Remove(int version) implements Op {}

  @Provide
  Arbitrary<Op> ops() {
    var v = Arbitraries.integers().between(0, VERSIONS - 1);
    var b = Arbitraries.integers().between(0, 5);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Combinators.combine(v, b).as(Write::new)),
        net.jqwik.api.Tuple.of(6, Combinators.combine(v, b).as(Read::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(v, b, Arbitraries.integers().between(0, BLOCK - 1)).as(DamageBlock::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(v, b).as(DamageEntryWhileClosed::new)),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Reopen())),
        net.jqwik.api.Tuple.of(1, v.map(Remove::new)));
  }

  static byte[] digest(int version) {
    byte[] d = new byte[32];
    Arrays.fill(d, (byte) (version + 1));
    return d;
  }

  static byte[] plain(int version, int block) {
    int n = (int) Math.min(BLOCK, LENGTH - (long) block * BLOCK);
    byte[] b = new byte[n];
    new Random(version * 100L + block).nextBytes(b);
    return b;
  }

  @Property(tries = 60)
  void readsAreExactOrMissAndTheTierStaysWithinItsBound(@ForAll @Size(min = 15, max = 60) List<@net.jqwik.api.From("ops") Op> ops)
      throws IOException {
    Path cache = Files.createTempDirectory("decoded-props");
    InstantSource clock = InstantSource.fixed(Instant.parse("2026-11-26T12:00:00Z"));
    DecodedBlocks tier = DecodedBlocks.open(cache, BOUND, clock);
    try {
      for (Op op : ops) {
        switch (op) {
          case Write w -> tier.file(digest(w.version()), BLOCK, LENGTH).write(w.block(), plain(w.version(), w.block()));
          case Read r -> {
            byte[] got = tier.file(digest(r.version()), BLOCK, LENGTH).read(r.block());
            if (got != null) {
              assertThat(got).isEqualTo(plain(r.version(), r.block()));
            }
          }
          case DamageBlock d -> damage(data(cache, d.version()), (long) d.block() * BLOCK + d.at());
          case DamageEntryWhileClosed d -> {
            tier.close();
            damage(index(cache, d.version()), DecodedFile.HEADER + (long) d.block() * DecodedFile.ENTRY + 2);
            tier = DecodedBlocks.open(cache, BOUND, clock);
          }
          case Reopen r -> {
            tier.close();
            tier = DecodedBlocks.open(cache, BOUND, clock);
          }
          case Remove r -> tier.remove(digest(r.version()));
        }
        assertThat(tier.bytes()).isBetween(0L, BOUND);
        assertThat(DecodedBlocks.readUsage(cache).bytes()).as("counted = on disk, after %s", op).isEqualTo(tier.bytes());
      }
      // Whatever is left reads back exactly, or not at all.
      for (int v = 0; v < VERSIONS; v++) {
        DecodedFile f = tier.file(digest(v), BLOCK, LENGTH);
        for (int i = 0; i < 6; i++) {
          byte[] got = f.read(i);
          if (got != null) {
            assertThat(got).isEqualTo(plain(v, i));
          }
        }
      }
    } finally {
      tier.close();
      try (var walk = Files.walk(cache)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static Path data(Path cache, int version) {
    return cache.resolve(DecodedBlocks.DIR).resolve(HexFormat.of().formatHex(digest(version)) + DecodedFile.DATA_SUFFIX);
  }

  static Path index(Path cache, int version) {
    return cache.resolve(DecodedBlocks.DIR).resolve(HexFormat.of().formatHex(digest(version)) + DecodedFile.INDEX_SUFFIX);
  }

  /** Flips a byte of {@code file} at {@code at}, if the file is there and that long. */
  static void damage(Path file, long at) {
    if (!Files.exists(file)) {
      return;
    }
    try (var ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (at >= ch.size()) {
        return;
      }
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, at);
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x5a)}), at);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
