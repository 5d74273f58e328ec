package org.oscircular.node.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.nbd.ArchiveExports;
import org.oscircular.node.nbd.NbdServer;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.Root;
import org.oscircular.protocol.format.TrustedKeys;

/**
 * Boots a real Debian image (built once with debootstrap and kept in {@link #CACHE}) under qemu
 * from a node serving it: kernel and initrd over the node's HTTP endpoint, root disk over its NBD
 * export. Two versions are published; the marker line the test init prints names the version.
 */
@Tag("slow")
@Tag("root")
@Timeout(value = 40, unit = TimeUnit.MINUTES) // the first run builds the image (debootstrap)
class NetworkBootTest {
  static final Path CACHE = Path.of(System.getenv().getOrDefault("CIRCULAR_TEST_CACHE",
      "/var/cache/circular-test")).resolve("debian-12");
  static final String MARKER = "BOOTED-FROM-NETWORK-DISK: version=";
  static final String CMDLINE = "console=ttyS0 init=/sbin/circular-test-init";
  static final Duration BOOT_DEADLINE = Duration.ofMinutes(4);

  @TempDir static Path tmp;
  static RocksBlockStore store;
  static ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
  static ExecutorService reads = Executors.newFixedThreadPool(8);
  static NbdServer nbd;
  static BootHttpServer http;

  @BeforeAll
  static void buildPublishAndServe() throws Exception {
    Root.require("debootstrap and chroot (building the boot image)");
    org.oscircular.node.nbd.TestTools.require("qemu-system-x86_64", "qemu-system-x86");
    org.oscircular.node.nbd.TestTools.require("debootstrap", "debootstrap");
    org.oscircular.node.nbd.TestTools.require("mkfs.ext4", "e2fsprogs");
    if (!Files.exists(Path.of("/usr/lib/ipxe/qemu/efi-virtio.rom"))) {
      fail("this test needs qemu's iPXE ROMs (Debian package ipxe-qemu)");
    }
    buildImage();
    Path origin = publish();
    store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(2L << 30));
    var trust = TrustedKeys.parse(Files.readString(CACHE.resolve("publisher.key.pub")), "test");
    Archive archive = Archive.open(List.of(new DirectoryOrigin(origin)), store, trust,
        FetchConfig.defaults(), InstantSource.system(), Sleeper.SYSTEM, pool);
    nbd = NbdServer.start(new InetSocketAddress("127.0.0.1", 0), new ArchiveExports(archive),
        reads, 2);
    http = BootHttpServer.start(new InetSocketAddress("127.0.0.1", 0), new BootImages(archive),
        nbd.address().getPort(), pool);
  }

  static void buildImage() throws IOException, InterruptedException {
    if (Files.exists(CACHE.resolve("v2.img")) && Files.exists(CACHE.resolve("initrd.img"))) {
      return;
    }
    Path script = tmp.resolve("make-debian-image.sh");
    try (var in = NetworkBootTest.class.getResourceAsStream("make-debian-image.sh")) {
      Files.copy(in, script);
    }
    Process p = new ProcessBuilder("bash", script.toString(), CACHE.toString(), "v1", "v2")
        .redirectErrorStream(true).redirectOutput(tmp.resolve("build.log").toFile()).start();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      fail("building the boot image failed:\n" + tail(Files.readString(tmp.resolve("build.log"))));
    }
  }

  /** Publishes v1 and v2 with kernel, initrd and command line, once (kept beside the image). */
  static Path publish() throws IOException {
    Path origin = CACHE.resolve("origin");
    Path done = CACHE.resolve("origin.done");
    if (Files.exists(done)) {
      return origin;
    }
    Path key = CACHE.resolve("publisher.key");
    if (!Files.exists(key)) {
      CliRun.run("keygen", "--out", key.toString(), "--comment", "boot tests").ok();
    }
    for (String v : List.of("v1", "v2")) {
      CliRun.run("publish", CACHE.resolve(v + ".img").toString(), "--name", "debian",
          "--version", v, "--origin", origin.toString(), "--key", key.toString(),
          "--kernel", CACHE.resolve("vmlinuz").toString(),
          "--initrd", CACHE.resolve("initrd.img").toString(),
          "--cmdline", CMDLINE, "--force", "--quiet").ok();
    }
    Files.writeString(done, "v1 v2\n");
    return origin;
  }

  @AfterAll
  static void stop() throws Exception {
    if (http != null) {
      http.close();
    }
    if (nbd != null) {
      nbd.close();
    }
    reads.shutdownNow();
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    if (store != null) {
      store.close();
    }
  }

  static String tail(String s) {
    return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
  }

  /**
   * Runs qemu until the console shows {@code until} (then stops it), or the deadline passes;
   * returns the console output.
   */
  static String qemuUntil(String name, String until, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-m", "1024", "-nographic",
        "-no-reboot", "-monitor", "none"));
    cmd.addAll(List.of(args));
    Path log = tmp.resolve(name + ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    long deadline = System.nanoTime() + BOOT_DEADLINE.toNanos();
    try {
      while (System.nanoTime() < deadline && p.isAlive()) {
        if (Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1).contains(until)) {
          break;
        }
        p.waitFor(200, TimeUnit.MILLISECONDS);
      }
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    return Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  /** Runs qemu until the guest powers off; returns the serial console output. */
  static String qemu(String name, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-m", "1024", "-nographic",
        "-no-reboot", "-monitor", "none"));
    cmd.addAll(List.of(args));
    Path log = tmp.resolve(name + ".log");
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    boolean exited = p.waitFor(BOOT_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String out = Files.readString(log);
    System.out.printf("%s: qemu start to power-off %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
    if (!exited) {
      fail(name + ": no power-off within " + BOOT_DEADLINE + "; console:\n" + tail(out));
    }
    return out;
  }

  static String markerLine(String console) {
    return console.lines().filter(l -> l.contains(MARKER)).findFirst()
        .orElseThrow(() -> new AssertionError("no marker on the console:\n" + tail(console)));
  }

  String httpBase() {
    return "http://127.0.0.1:" + http.address().getPort();
  }

  @Test
  void vmBootsWithKernelFromTheNodeAndRootDiskFromItsNbdExport() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    Path kernel = tmp.resolve("vm-kernel");
    Path initrd = tmp.resolve("vm-initrd");
    for (var e : List.of(List.of("kernel", kernel), List.of("initrd", initrd))) {
      var r = client.send(HttpRequest.newBuilder(URI.create(httpBase() + "/boot/debian/v2/"
          + e.get(0))).build(), HttpResponse.BodyHandlers.ofFile((Path) e.get(1)));
      assertEquals(200, r.statusCode());
    }
    String console = qemu("vm", "-kernel", kernel.toString(), "-initrd", initrd.toString(),
        "-append", "root=/dev/vda ro " + CMDLINE,
        "-drive", "file=nbd://127.0.0.1:" + nbd.address().getPort()
            + "/debian:v2,format=raw,if=virtio,readonly=on");
    String line = markerLine(console);
    assertTrue(line.contains("version=v2") && line.contains("root=/dev/vda"), line);
  }

  @Test
  void disklessMachineBootsTheNewestVersionFromTheMenu() throws Exception {
    String console = qemu("diskless-newest", "-boot", "n",
        "-netdev", "user,id=n0,bootfile=http://10.0.2.2:" + http.address().getPort()
            + "/boot/menu.ipxe",
        "-device", "virtio-net-pci,netdev=n0");
    String line = markerLine(console);
    assertTrue(line.contains("version=v2") && line.contains("root=/dev/nbd0"), line);
    assertTrue(line.contains("nbdroot=10.0.2.2:" + nbd.address().getPort() + "/debian:v2"), line);
  }

  @Test
  void aVersionWhoseKernelDoesNotVerifyIsNeverBooted() throws Exception {
    // A mirror of the origin whose copy of one kernel block is corrupted (hard links elsewhere).
    Path origin = CACHE.resolve("origin");
    // beside the cached origin: hard links need the same file system (a tmpfs /tmp is not)
    Path bad = CACHE.resolve("bad-origin-" + ProcessHandle.current().pid());
    Root.run("rm", "-rf", bad.toString());
    Root.run("cp", "-al", origin.toString(), bad.toString());
    var trust = TrustedKeys.parse(Files.readString(CACHE.resolve("publisher.key.pub")), "test");
    try (var badStore = RocksBlockStore.open(tmp.resolve("bad-cache"), CacheConfig.withMaxBytes(1L << 30))) {
      Archive archive = Archive.open(List.of(new DirectoryOrigin(bad)), badStore, trust,
          FetchConfig.defaults().withRounds(1, Duration.ZERO), InstantSource.system(),
          Sleeper.SYSTEM, pool);
      var table = archive.table(archive.catalog().require("debian:v2"));
      var block = (org.oscircular.protocol.format.BlockEntry.Stored) table.attachments()
          .get("kernel").blocks().stream()
          .filter(b -> b instanceof org.oscircular.protocol.format.BlockEntry.Stored)
          .skip(5).findFirst().orElseThrow();
      Path file = bad.resolve(org.oscircular.protocol.format.OriginLayout.block(block.name()));
      byte[] bytes = Files.readAllBytes(file);
      bytes[bytes.length / 3] ^= 0x10;
      Files.delete(file); // break the hard link: the shared origin stays intact
      Files.write(file, bytes);
      try (var badHttp = BootHttpServer.start(new InetSocketAddress("127.0.0.1", 0),
          new BootImages(archive), nbd.address().getPort(), pool)) {
        String console = qemuUntil("bad-kernel", "failed verification: not booted", "-boot", "n",
            "-netdev", "user,id=n0,bootfile=http://10.0.2.2:" + badHttp.address().getPort()
                + "/boot/debian/v2/boot.ipxe",
            "-device", "virtio-net-pci,netdev=n0");
        assertTrue(console.contains("CIRCULAR-BOOT-FAILED: debian:v2"), tail(console));
        assertTrue(!console.contains("Linux version"), "no kernel may start:\n" + tail(console));
      }
    } finally {
      Root.run("rm", "-rf", bad.toString());
    }
  }

  @Test
  void choosingTheOldVersionInTheMenuBootsTheOldVersion() throws Exception {
    String console = qemu("diskless-old", "-boot", "n",
        "-netdev", "user,id=n0,bootfile=http://10.0.2.2:" + http.address().getPort()
            + "/boot/menu.ipxe?default=debian:v1",
        "-device", "virtio-net-pci,netdev=n0");
    String line = markerLine(console);
    assertTrue(line.contains("version=v1") && line.contains("root=/dev/nbd0"), line);
  }
}
