package org.oscircular.node.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.protocol.format.Blob;
import org.oscircular.protocol.format.BlockEncoder;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Catalog;
import org.oscircular.protocol.format.Codec;
import org.oscircular.protocol.format.Digests;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.PublisherKey;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * Writes an origin tree directly with the format classes (blocks, signed tables, signed catalog), so
 * read-path tests do not depend on the publishing CLI.
 */
public final class OriginFixture {
  public static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
  private final Path root;
  private final PublisherKey.Private key;
  private final List<Catalog.Entry> entries = new ArrayList<>();
  private long sequence;

  public OriginFixture(Path root, long keySeed) {
    this.root = root;
    this.key = PublisherKey.Private.generate(new Random(keySeed));
  }

  public Path root() {
    return root;
  }

  public TrustedKeys trust() {
    return TrustedKeys.of(key.publicKey());
  }

  public PublisherKey.Private key() {
    return key;
  }

  /** An archive of this origin's directory over {@code store}, trusting this publisher, its clock at {@link #NOW}. */
  public Archive archive(RocksBlockStore store, FetchConfig fetch, ExecutorService background) throws IOException {
    return Archive.open(List.of(new DirectoryOrigin(root)), store, trust(), fetch, InstantSource.fixed(NOW),
        Sleeper.SYSTEM, background);
  }

  public ImageTable publish(String name, String version, byte[] image, int blockSize, Codec codec,
      List<Integer> bootProfile) throws IOException {
    var encoder = new BlockEncoder(codec);
    List<BlockEntry> blocks = new ArrayList<>();
    for (long off = 0; off < image.length; off += blockSize) {
      int len = (int) Math.min(blockSize, image.length - off);
      var enc = encoder.encode(image, (int) off, len);
      blocks.add(enc.entry());
      if (enc.entry() instanceof BlockEntry.Stored s) {
        Path p = root.resolve(OriginLayout.block(s.name()));
        if (!Files.exists(p)) {
          Files.createDirectories(p.getParent());
          Files.write(p, enc.stored());
        }
      }
    }
    var table = new ImageTable(name, version, blockSize, codec, NOW, NOW.plus(Duration.ofDays(3650)),
        new Blob(image.length, blocks), Map.of(), Map.of(), bootProfile);
    byte[] signed = Documents.signTable(table, key);
    Path tp = root.resolve(OriginLayout.table(name, version));
    Files.createDirectories(tp.getParent());
    Files.write(tp, signed);
    // Publishing a version again replaces it (as publish --force does).
    entries.removeIf(e -> e.name().equals(name) && e.version().equals(version));
    entries.add(new Catalog.Entry(name, version, Digests.sha256(signed), image.length, NOW, false));
    writeCatalog(NOW.plus(Duration.ofDays(30)));
    return table;
  }

  /** Re-signs the catalog with the next sequence number and the given expiry. */
  public byte[] writeCatalog(Instant expires) throws IOException {
    byte[] signed = Documents.signCatalog(new Catalog(++sequence, NOW, expires, entries), key);
    Files.write(root.resolve(OriginLayout.CATALOG), signed);
    return signed;
  }

  /** A deterministic test image: compressible text-like runs, random runs and whole zero blocks. */
  public static byte[] image(int length, int blockSize, long seed) {
    var rnd = new Random(seed);
    byte[] b = new byte[length];
    for (int off = 0; off < length; off += blockSize) {
      int len = Math.min(blockSize, length - off);
      switch ((off / blockSize) % 4) {
        case 0 -> {
          for (int i = 0; i < len; i++) {
            b[off + i] = (byte) ('a' + (i * 7 + off / blockSize) % 26);
          }
        }
        case 1 -> {
          byte[] r = new byte[len];
          rnd.nextBytes(r);
          System.arraycopy(r, 0, b, off, len);
        }
        case 2 -> { } // zeros
        default -> {
          for (int i = 0; i < len; i += 97) {
            b[off + i] = (byte) rnd.nextInt();
          }
        }
      }
    }
    return b;
  }
}
