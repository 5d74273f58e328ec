package org.oscircular.protocol.format;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import java.util.SplittableRandom;

/** Random but valid format values for property tests, built from a seed. */
public final class FormatArbitraries {
  private FormatArbitraries() {}

  public static BlockEntry randomEntry(RandomGenerator r, int blockSize) {
    if (r.nextInt(4) == 0) {
      return BlockEntry.Zero.INSTANCE;
    }
    byte[] sha1 = new byte[20];
    byte[] sha256 = new byte[32];
    r.nextBytes(sha1);
    r.nextBytes(sha256);
    return new BlockEntry.Stored(new BlockName(sha1), sha256, 1 + r.nextInt(blockSize));
  }

  public static Blob randomBlob(RandomGenerator r, int blockSize, long maxLength) {
    long length = r.nextLong(maxLength + 1);
    int n = Blob.blockCount(length, blockSize);
    List<BlockEntry> blocks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      blocks.add(randomEntry(r, blockSize));
    }
    return new Blob(length, blocks);
  }

  public static ImageTable randomTable(long seed) {
    var r = new SplittableRandom(seed);
    int blockSize = 1 << (12 + r.nextInt(11));
    Codec codec = Codec.values()[r.nextInt(Codec.values().length)];
    Blob image = randomBlob(r, blockSize, 300L * blockSize);
    Map<String, Blob> attachments = new TreeMap<>();
    if (r.nextBoolean()) {
      attachments.put("kernel", randomBlob(r, blockSize, 5L * blockSize));
      attachments.put("initrd", randomBlob(r, blockSize, 9L * blockSize));
    }
    Map<String, String> props = new TreeMap<>();
    if (r.nextBoolean()) {
      props.put("cmdline", "ro quiet console=ttyS0 é" + r.nextInt());
    }
    List<Integer> profile = new ArrayList<>();
    for (int i = 0; i < r.nextInt(20) && !image.blocks().isEmpty(); i++) {
      profile.add(r.nextInt(image.blocks().size()));
    }
    Instant created = Instant.ofEpochMilli(r.nextLong(4_000_000_000_000L));
    return new ImageTable("img" + r.nextInt(1000), "1." + r.nextInt(100), blockSize, codec, created,
        created.plusSeconds(r.nextInt(1_000_000)), image, attachments, props, profile);
  }

  public static Catalog randomCatalog(long seed) {
    var r = new SplittableRandom(seed);
    List<Catalog.Entry> entries = new ArrayList<>();
    int n = r.nextInt(30);
    for (int i = 0; i < n; i++) {
      byte[] digest = new byte[32];
      r.nextBytes(digest);
      entries.add(new Catalog.Entry("image" + (i % 4), "v" + i, digest, 512L * r.nextInt(1 << 20),
          Instant.ofEpochMilli(r.nextLong(4_000_000_000_000L)), r.nextBoolean()));
    }
    Instant created = Instant.ofEpochMilli(r.nextLong(4_000_000_000_000L));
    return new Catalog(r.nextLong(Long.MAX_VALUE), created, created.plusSeconds(86400), entries);
  }
}
