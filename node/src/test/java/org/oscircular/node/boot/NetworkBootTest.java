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
 * export. Two versions are published (v2 with {@code --kernel-from-image}); the marker line the test
 * init prints names the version. kexec runs only inside a guest, never on this host.
 *
 * <p>qemu uses software emulation (TCG); {@code CIRCULAR_TEST_QEMU_ACCEL=kvm} uses KVM where it
 * works (a present {@code /dev/kvm} is not enough: nested KVM may fail or hang, as on our CI hosts).
 */
@Tag("slow")
@Tag("root")
@Timeout(value = 40, unit = TimeUnit.MINUTES) // the first run builds the image (debootstrap)
class NetworkBootTest {
  /** Named after the build script's hash: a changed script (packages, test init) builds anew. */
  static final Path CACHE = Path.of(System.getenv().getOrDefault("CIRCULAR_TEST_CACHE",
      "/var/cache/circular-test")).resolve("debian-12-" + scriptHash());
  static final String ACCEL = System.getenv().getOrDefault("CIRCULAR_TEST_QEMU_ACCEL", "tcg");
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

  static String scriptHash() {
    try (var in = NetworkBootTest.class.getResourceAsStream("make-debian-image.sh")) {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(in.readAllBytes());
      return java.util.HexFormat.of().formatHex(d).substring(0, 12);
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot read make-debian-image.sh", e);
    }
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

  /**
   * Publishes v1 with the kernel and initrd files and v2 with {@code --kernel-from-image} (the same
   * Debian kernel, read from v2.img's /boot), both with the command line, once (kept beside the image).
   */
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
      List<String> args = new ArrayList<>(List.of("publish", CACHE.resolve(v + ".img").toString(),
          "--name", "debian", "--version", v, "--origin", origin.toString(), "--key",
          key.toString(), "--cmdline", CMDLINE, "--force", "--quiet"));
      if (v.equals("v1")) {
        args.addAll(List.of("--kernel", CACHE.resolve("vmlinuz").toString(),
            "--initrd", CACHE.resolve("initrd.img").toString()));
      } else {
        args.add("--kernel-from-image");
      }
      String out = CliRun.run(args.toArray(String[]::new)).ok().out();
      if (v.equals("v2")) {
        assertTrue(out.contains("kernel /boot/vmlinuz-") && out.contains("and initrd /boot/initrd.img-"),
            out);
      }
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
    List<String> cmd = qemuCommand();
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
    return qemu(name, BOOT_DEADLINE, args);
  }

  static List<String> qemuCommand() {
    return new ArrayList<>(List.of("qemu-system-x86_64", "-accel", ACCEL, "-m", "1024",
        "-nographic", "-no-reboot", "-monitor", "none"));
  }

  /** Runs qemu until the guest powers off or {@code deadline} passes; returns the serial console. */
  static String qemu(String name, Duration deadline, String... args) throws Exception {
    return qemu(name, deadline, List.of(), args);
  }

  /**
   * As {@link #qemu(String, Duration, String...)}, printing when each of {@code milestones} first
   * appears on the console after the one before it (seconds from qemu start).
   */
  static String qemu(String name, Duration deadline, List<String> milestones, String... args)
      throws Exception {
    List<String> cmd = qemuCommand();
    cmd.addAll(List.of(args));
    Path log = tmp.resolve(name + ".log");
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    long end = t0 + deadline.toNanos();
    StringBuilder seen = new StringBuilder();
    int next = 0;
    int from = 0;
    boolean exited;
    do {
      exited = p.waitFor(250, TimeUnit.MILLISECONDS);
      String now = next < milestones.size()
          ? Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
      int at;
      while (next < milestones.size() && (at = now.indexOf(milestones.get(next), from)) >= 0) {
        from = at + milestones.get(next).length();
        seen.append(String.format(" '%s' at %.1f s;", milestones.get(next++),
            (System.nanoTime() - t0) / 1e9));
      }
    } while (!exited && System.nanoTime() < end);
    if (!exited) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    String out = Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1);
    System.out.printf("%s: qemu start to power-off %.1f s;%s%n", name,
        (System.nanoTime() - t0) / 1e9, seen);
    if (!exited) {
      fail(name + ": no power-off within " + deadline + "; console:\n" + tail(out));
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

  /**
   * What the guest of the kexec test runs, shared read-only over 9p (tag {@code circular}): this
   * test run's classpath (hard links, or copies across file systems), the trusted key, and
   * {@code guest.sh}, which the image's test init runs when the kernel command line says
   * {@code circular.test=run}. The JDK running this test is shared as tag {@code jdk}.
   */
  static Path guestShare(String circularArgs) throws IOException {
    Path share = Files.createDirectories(tmp.resolve("guest"));
    Path lib = Files.createDirectories(share.resolve("lib"));
    List<String> cp = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path from = Path.of(entry);
      if (!Files.exists(from) || entry.contains("test-classes")) {
        continue;
      }
      String name = String.format("%03d-%s", n++, from.getFileName());
      Path to = lib.resolve(name);
      if (Files.isDirectory(from)) {
        Root.run("cp", "-a", from.toString(), to.toString());
      } else {
        try {
          Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
          Files.copy(from, to);
        }
      }
      cp.add("/tmp/circular/lib/" + name);
    }
    Files.copy(CACHE.resolve("publisher.key.pub"), share.resolve("publisher.key.pub"));
    Files.writeString(share.resolve("guest.sh"), String.join("\n",
        "echo \"CIRCULAR-KEXEC-TEST: running circular kexec in version $(cat /etc/circular-test-version)\"",
        "/tmp/jdk/bin/java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData"
            + " --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir=/tmp -cp " + String.join(":", cp)
            + " org.oscircular.node.cli.CircularCli kexec " + circularArgs
            + " --trust /tmp/circular/publisher.key.pub --cache /tmp/circular-cache",
        ""));
    return share;
  }

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void kexecInsideAGuestBootsTheOtherVersionWithItsOwnCommandLine() throws Exception {
    int nbdPort = nbd.address().getPort();
    try (var origin = org.oscircular.node.origin.StaticOriginServer.start(CACHE.resolve("origin"),
        new InetSocketAddress("127.0.0.1", 0), pool)) {
      int originPort = URI.create(origin.url()).getPort();
      Path share = guestShare("http://10.0.2.2:" + originPort + "/ debian:v2 --nbd 10.0.2.2:"
          + nbdPort);
      // Version v1 boots diskless (root over NBD from the node) and, told so by its command line,
      // runs our real `circular kexec` (host JDK over 9p), which fetches v2's kernel and initrd
      // (taken from v2.img's /boot at publish time) through its cache from the origin and kexecs.
      String v1 = "root=/dev/nbd0 nbdroot=10.0.2.2:" + nbdPort + "/debian:v1 ip=dhcp ro " + CMDLINE
          + " circular.test=run";
      String console = qemu("kexec", Duration.ofMinutes(7), List.of("version=v1",
          "CIRCULAR-KEXEC-TEST", "kexec -l", "kexec -e", "Linux version", "version=v2"),
          "-cpu", "max",
          "-kernel", CACHE.resolve("vmlinuz").toString(),
          "-initrd", CACHE.resolve("initrd.img").toString(), "-append", v1,
          "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
          "-virtfs", "local,path=" + System.getProperty("java.home")
              + ",mount_tag=jdk,security_model=none,readonly=on",
          "-virtfs", "local,path=" + share + ",mount_tag=circular,security_model=none,readonly=on");
      console.lines().filter(l -> l.contains(MARKER) || l.contains("CIRCULAR-") || l.startsWith("kexec")
          || l.contains("kexec_core")).forEach(l -> System.out.println("kexec console: " + l));
      assertTrue(!console.contains("CIRCULAR-TEST-FAILED"), "guest.sh failed:\n" + tail(console));
      List<String> markers = console.lines().filter(l -> l.contains(MARKER)).toList();
      assertEquals(2, markers.size(), "expected v1 then v2 booted:\n" + tail(console));
      assertTrue(markers.get(0).contains("version=v1") && markers.get(0).contains("circular.test=run"),
          markers.get(0));
      // v2 runs with exactly the command line circular kexec built from v2's table
      String v2 = "root=/dev/nbd0 nbdroot=10.0.2.2:" + nbdPort + "/debian:v2 ip=dhcp ro " + CMDLINE;
      assertTrue(markers.get(1).contains("version=v2 ") && markers.get(1).contains("root=/dev/nbd0")
          && markers.get(1).contains("cmdline=\"" + v2 + "\""), markers.get(1));
      int exec = console.indexOf("\nkexec -e");
      assertTrue(exec > console.indexOf(markers.get(0)) && exec < console.indexOf(markers.get(1)),
          "kexec -e runs between the two boots:\n" + tail(console));
      // the second kernel was started by kexec within the same qemu run (-no-reboot: a reboot
      // would have ended qemu), so the console shows two kernel banners
      assertEquals(2, console.split("Linux version ", -1).length - 1, tail(console));
    }
  }
}
