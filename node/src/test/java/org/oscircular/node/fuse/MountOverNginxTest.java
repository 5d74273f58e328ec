package org.oscircular.node.fuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Ext4Images;
import org.oscircular.node.testing.NginxOrigin;
import org.oscircular.node.testing.Root;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.Documents;
import org.oscircular.protocol.format.FormatException;
import org.oscircular.protocol.format.ImageTable;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * The whole client path with real parts: an ext4 image published to a real nginx, mounted with FUSE by a
 * child {@code circular mount}, attached to a read-only loop device and mounted as ext4.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MountOverNginxTest {
  static final Duration READY = Duration.ofSeconds(30);
  @TempDir static Path dir;
  static Path trust;
  static Path origin;
  static Path image;
  static Path files;
  static ImageTable table;

  @BeforeAll
  static void publish() throws IOException {
    Root.require("FUSE mounts, loop devices and ext4 mounts");
    Path key = dir.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString(), "--comment", "mount test").ok();
    trust = dir.resolve("trusted-keys");
    Files.copy(dir.resolve("publisher.key.pub"), trust);
    files = dir.resolve("files");
    Ext4Images.generateFiles(files, 7, 6 << 20);
    image = dir.resolve("testos-1.img");
    Ext4Images.mkfs(files, image, 20);
    origin = dir.resolve("origin");
    CliRun.run("publish", image.toString(), "--name", "testos", "--version", "1", "--origin", origin.toString(),
        "--key", key.toString(), "--block-size", "64K", "--codec", "zstd").ok();
    table = readTable(origin);
  }

  static ImageTable readTable(Path originDir) throws IOException {
    try {
      TrustedKeys keys = TrustedKeys.parse(Files.readString(trust), "trust");
      return Documents.openTable(Files.readAllBytes(originDir.resolve(OriginLayout.table("testos", "1"))), keys, "table");
    } catch (FormatException e) {
      throw new IOException(e);
    }
  }

  static ChildJvm mount(String originSpec, Path mountPoint, Path cache, String... more) throws Exception {
    Files.createDirectories(mountPoint);
    List<String> args = new ArrayList<>(List.of("mount", originSpec, mountPoint.toString(),
        "--cache", cache.toString(), "--trust", trust.toString()));
    args.addAll(List.of(more));
    var child = ChildJvm.start(dir.resolve("logs"), args.toArray(String[]::new));
    child.awaitOutput(o -> o.contains("mounted "), READY);
    return child;
  }

  /** Attaches the version file to a loop device, mounts it and checks every file against the source tree. */
  static void assertFilesIdenticalThroughLoopMount(Path versionFile, Path ext4Mount) throws IOException {
    String loop = Root.losetupReadOnly(versionFile);
    try {
      Root.mountReadOnly(loop, ext4Mount);
      try {
        List<Path> expected = Root.files(files);
        assertThat(expected).hasSizeGreaterThan(5);
        for (Path rel : expected) {
          assertThat(Files.mismatch(files.resolve(rel), ext4Mount.resolve(rel))).as("%s", rel).isEqualTo(-1L);
        }
      } finally {
        Root.unmount(ext4Mount);
      }
    } finally {
      Root.detach(loop);
    }
  }

  @Test
  void mountedVersionReadsIdenticallyThenFromCacheWhenNginxStopsAndFailsUnfetchedBlocksWithEio() throws Exception {
    Path mnt = dir.resolve("mnt-a");
    Path ext4 = dir.resolve("ext4-a");
    Path cache = dir.resolve("cache-a");
    ChildJvm child = null;
    var nginx = NginxOrigin.serve(origin);
    boolean nginxRunning = true;
    try {
      child = mount(nginx.url(), mnt, cache);
      Path versionFile = mnt.resolve("testos/1.img");
      assertThat(Files.size(versionFile)).isEqualTo(Files.size(image));
      long dev = (Long) Files.getAttribute(mnt, "unix:dev");
      Path readAhead = Path.of("/sys/class/bdi", ((dev >>> 8) & 0xfff) + ":" + ((dev & 0xff) | ((dev >>> 12) & ~0xffL)),
          "read_ahead_kb");
      assertThat(Files.readString(readAhead).strip()).as("kernel read-ahead of the mount (KiB)").isEqualTo("1024");
      try (var list = Files.list(mnt)) {
        assertThat(list.map(p -> p.getFileName().toString()).toList()).containsExactly("testos");
      }
      assertThatThrownBy(() -> Files.writeString(versionFile, "x")).isInstanceOf(IOException.class);

      assertFilesIdenticalThroughLoopMount(versionFile, ext4);
      nginx.close();
      nginxRunning = false;
      Root.dropPageCache();
      // The origin is gone: the same reads come from the block cache.
      assertFilesIdenticalThroughLoopMount(versionFile, ext4);

      // A stored block no read touched yet cannot be had now: EIO, and the mount stays up.
      List<Integer> unreadable = new ArrayList<>();
      try (var ch = FileChannel.open(versionFile)) {
        var blocks = table.image().blocks();
        for (int i = blocks.size() - 1; i >= 0 && unreadable.isEmpty(); i--) {
          if (blocks.get(i) instanceof BlockEntry.Stored) {
            long off = (long) i * table.blockSize();
            try {
              ch.read(ByteBuffer.allocate(512), off);
            } catch (IOException e) {
              assertThat(e.getMessage()).contains("Input/output error");
              unreadable.add(i);
            }
          }
        }
      }
      assertThat(unreadable).as("a never-fetched stored block").hasSize(1);
      long offset = (long) unreadable.getFirst() * table.blockSize();
      assertThat(child.err()).contains("testos:1 block " + unreadable.getFirst() + " at image offset " + offset)
          .contains(nginx.url());
      assertThat(child.process().isAlive()).isTrue();
      assertFilesIdenticalThroughLoopMount(versionFile, ext4);

      assertThat(child.terminate(Duration.ofSeconds(20))).isZero();
      assertThat(Root.isMounted(mnt)).as("unmounted after SIGTERM").isFalse();
      assertThat(child.err()).contains("unmounted " + mnt);
    } finally {
      if (nginxRunning) {
        nginx.close();
      }
      Root.unmount(ext4);
      if (child != null) {
        child.close();
      }
      Root.unmount(mnt);
    }
  }

  @Test
  void aBlockCorruptedOnTheOriginGivesEioAndTheNextMirrorServesIt() throws Exception {
    Path bad = dir.resolve("origin-corrupt");
    copyTree(origin, bad);
    int index = -1;
    for (int i = 0; i < table.image().blocks().size() && index < 0; i++) {
      if (table.image().blocks().get(i) instanceof BlockEntry.Stored) {
        index = i;
      }
    }
    var entry = (BlockEntry.Stored) table.image().blocks().get(index);
    Path blockFile = bad.resolve(OriginLayout.block(entry.name()));
    byte[] b = Files.readAllBytes(blockFile);
    b[b.length / 2] ^= 0x40;
    Files.write(blockFile, b);
    long offset = (long) index * table.blockSize();
    byte[] expected = new byte[4096];
    try (var ch = FileChannel.open(image)) {
      ch.read(ByteBuffer.wrap(expected), offset);
    }

    Path mntBad = dir.resolve("mnt-bad");
    Path mntBoth = dir.resolve("mnt-both");
    ChildJvm alone = null;
    ChildJvm mirrored = null;
    try (var badNginx = NginxOrigin.serve(bad); var goodNginx = NginxOrigin.serve(origin)) {
      alone = mount(badNginx.url(), mntBad, dir.resolve("cache-bad"));
      try (var ch = FileChannel.open(mntBad.resolve("testos/1.img"))) {
        assertThatThrownBy(() -> ch.read(ByteBuffer.allocate(4096), offset))
            .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
      }
      assertThat(alone.err()).contains("block " + index + " at image offset " + offset)
          .contains(badNginx.url()).contains("does not match");

      mirrored = mount(badNginx.url() + "," + goodNginx.url(), mntBoth, dir.resolve("cache-both"));
      byte[] got = new byte[4096];
      try (var ch = FileChannel.open(mntBoth.resolve("testos/1.img"))) {
        ch.read(ByteBuffer.wrap(got), offset);
      }
      assertThat(got).isEqualTo(expected);
      assertThat(goodNginx.accessLog()).anyMatch(l -> l.contains(OriginLayout.block(entry.name())));
    } finally {
      for (var c : new ChildJvm[] {alone, mirrored}) {
        if (c != null) {
          c.close();
        }
      }
      Root.unmount(mntBad);
      Root.unmount(mntBoth);
    }
  }

  @Test
  void aVersionPublishedWhileMountedAppearsAndReadsIdentically() throws Exception {
    Path growing = dir.resolve("origin-growing");
    copyTree(origin, growing);
    Path v2 = dir.resolve("testos-2.img");
    Files.copy(image, v2);
    try (var ch = FileChannel.open(v2, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("version two".repeat(1000).getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 1 << 20);
    }
    Path mnt = dir.resolve("mnt-growing");
    ChildJvm child = null;
    try (var nginx = NginxOrigin.serve(growing)) {
      child = mount(nginx.url(), mnt, dir.resolve("cache-growing"), "--set", "catalog.refresh-interval=300ms");
      Path second = mnt.resolve("testos/2.img");
      // Looked up before it exists: must not be remembered as missing.
      assertThat(Files.exists(second)).isFalse();
      CliRun.run("publish", v2.toString(), "--name", "testos", "--version", "2", "--origin", growing.toString(),
          "--key", dir.resolve("publisher.key").toString(), "--block-size", "64K").ok();
      // the mount polls the origin every 300 ms
      Await.atMost(Duration.ofSeconds(30)).every(Duration.ofMillis(100))
          .until(second + ", published after mounting, to appear", () -> Files.exists(second));
      try (var list = Files.list(mnt.resolve("testos"))) {
        assertThat(list.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("1.img", "2.img");
      }
      assertThat(Files.mismatch(second, v2)).isEqualTo(-1L);
      assertThat(Files.mismatch(mnt.resolve("testos/1.img"), image)).isEqualTo(-1L);
      assertThat(child.err()).contains("now lists new image versions");
    } finally {
      if (child != null) {
        child.close();
      }
      Root.unmount(mnt);
    }
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (var s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
