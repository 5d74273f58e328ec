package org.oscircular.node.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.oscircular.node.archive.Archive;
import org.oscircular.node.cache.CacheConfig;
import org.oscircular.node.cache.RocksBlockStore;
import org.oscircular.node.fetch.DirectoryOrigin;
import org.oscircular.node.fetch.FetchConfig;
import org.oscircular.node.fetch.Sleeper;
import org.oscircular.node.testing.CliRun;
import org.oscircular.protocol.format.BlockEntry;
import org.oscircular.protocol.format.OriginLayout;
import org.oscircular.protocol.format.TrustedKeys;

/** The node's boot endpoint over real HTTP, and the boot-menu and kexec commands. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BootHttpServerTest {
  @TempDir static Path tmp;
  Path origin;
  Path key;
  byte[] kernel;
  byte[] initrd;
  RocksBlockStore store;
  Archive archive;
  ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
  BootHttpServer server;
  HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  void publish(String version, boolean withKernel) throws Exception {
    publish(version, withKernel ? tmp.resolve("vmlinuz") : null);
  }

  void publish(String version, Path kernelFile) throws Exception {
    boolean withKernel = kernelFile != null;
    Path img = tmp.resolve(version + ".img");
    Files.write(img, random(1 << 20, version.hashCode()));
    var args = new java.util.ArrayList<>(List.of("publish", img.toString(), "--name", "debian",
        "--version", version, "--origin", origin.toString(), "--key", key.toString(),
        "--block-size", "64K", "--quiet"));
    if (withKernel) {
      args.addAll(List.of("--kernel", kernelFile.toString(), "--initrd",
          tmp.resolve("initrd.img").toString(), "--cmdline", "console=ttyS0 init=/sbin/test"));
    }
    CliRun.run(args.toArray(String[]::new)).ok();
  }

  @BeforeAll
  void publishAndServe() throws Exception {
    origin = tmp.resolve("origin");
    key = tmp.resolve("publisher.key");
    CliRun.run("keygen", "--out", key.toString()).ok();
    kernel = random(700_000, 1);
    initrd = random(1_500_000, 2);
    Files.write(tmp.resolve("vmlinuz"), kernel);
    Files.write(tmp.resolve("initrd.img"), initrd);
    publish("1", true);
    publish("2", true);
    publish("3-nokernel", false);
    Files.write(tmp.resolve("vmlinuz-bad"), random(300_000, 3));
    publish("4-bad", tmp.resolve("vmlinuz-bad"));
    store = RocksBlockStore.open(tmp.resolve("cache"), CacheConfig.withMaxBytes(256L << 20));
    var trust = TrustedKeys.parse(Files.readString(tmp.resolve("publisher.key.pub")), "test");
    archive = Archive.open(List.of(new DirectoryOrigin(origin)), store, trust,
        FetchConfig.defaults().withTimeout(Duration.ofSeconds(5)).withRounds(1, Duration.ZERO),
        InstantSource.system(), Sleeper.SYSTEM, pool);
    server = BootHttpServer.start(new InetSocketAddress("127.0.0.1", 0), new BootImages(archive),
        10809, pool);
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    store.close();
  }

  /** A GET with the Host header a machine on another network would send. */
  String rawGet(String path, String host) throws Exception {
    try (var socket = new java.net.Socket("127.0.0.1", server.address().getPort())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host
          + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  HttpResponse<byte[]> get(String path, String host) throws Exception {
    var b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort()
        + path)).timeout(Duration.ofSeconds(30));
    if (host != null) {
      b.header("Host", host);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void servesTheMenuNamingTheHostTheMachineReachedTheNodeOn() throws Exception {
    var r = get("/boot/menu.ipxe", null);
    assertEquals(200, r.statusCode());
    String menu = new String(r.body());
    int port = server.address().getPort();
    assertTrue(menu.contains("kernel http://127.0.0.1:" + port + "/boot/debian/2/kernel"
        + " root=/dev/nbd0 nbdroot=127.0.0.1:10809/debian:2 ip=dhcp ro console=ttyS0"
        + " init=/sbin/test"), menu);
    assertTrue(menu.contains("debian 1 "), menu);
    assertFalse(menu.contains("3-nokernel"), "a version without kernel is not offered");
  }

  @Test
  void servesAScriptThatBootsOneVersionWithoutAMenu() throws Exception {
    String response = rawGet("/boot/debian/1/boot.ipxe", "node.lan:8080");
    assertTrue(response.startsWith("HTTP/1.1 200"), response);
    String script = response.substring(response.indexOf("\r\n\r\n") + 4);
    assertTrue(script.startsWith("#!ipxe\n"), script);
    assertTrue(script.contains("kernel http://node.lan:8080/boot/debian/1/kernel root=/dev/nbd0"
        + " nbdroot=node.lan:10809/debian:1 ip=dhcp ro console=ttyS0 init=/sbin/test || goto fail"),
        script);
    assertFalse(script.contains("menu"), script);
    assertEquals(404, get("/boot/debian/3-nokernel/boot.ipxe", null).statusCode());
  }

  @Test
  void servesKernelAndInitrdByteForByte() throws Exception {
    var k = get("/boot/debian/1/kernel", null);
    assertEquals(200, k.statusCode());
    assertArrayEquals(kernel, k.body());
    var i = get("/boot/debian/2/initrd", null);
    assertEquals(200, i.statusCode());
    assertArrayEquals(initrd, i.body());
  }

  @Test
  void unknownVersionsAttachmentsAndPathsAreNotFound() throws Exception {
    assertEquals(404, get("/boot/debian/9/kernel", null).statusCode());
    assertEquals(404, get("/boot/debian/3-nokernel/kernel", null).statusCode());
    assertEquals(404, get("/etc/passwd", null).statusCode());
    assertEquals(404, get("/boot/../../kernel", null).statusCode());
  }

  @Test
  void aKernelBlockThatFailsVerificationIsNeverServed() throws Exception {
    var table = archive.table(archive.catalog().require("debian:4-bad"));
    var stored = (BlockEntry.Stored) table.attachments().get("kernel").blocks().stream()
        .filter(e -> e instanceof BlockEntry.Stored).skip(3).findFirst().orElseThrow();
    Path file = origin.resolve(OriginLayout.block(stored.name()));
    byte[] bytes = Files.readAllBytes(file);
    bytes[10] ^= 1;
    Files.write(file, bytes);
    var r = get("/boot/debian/4-bad/kernel", null);
    assertEquals(502, r.statusCode());
    assertTrue(new String(r.body()).contains("kernel block 3"), new String(r.body()));
    assertArrayEquals(initrd, get("/boot/debian/4-bad/initrd", null).body());
    assertArrayEquals(kernel, get("/boot/debian/1/kernel", null).body());
  }

  @Test
  void bootMenuCommandPrintsTheMenu() {
    var run = CliRun.run("boot-menu", origin.toString(), "--cache", tmp.resolve("c2").toString(),
        "--trust", tmp.resolve("publisher.key.pub").toString(), "--node", "10.0.0.5:8080",
        "--nbd-port", "10809", "--default", "debian:1").ok();
    assertTrue(run.out().contains("nbdroot=10.0.0.5:10809/debian:2"), run.out());
    assertTrue(run.out().contains("choose --default " + BootMenuTest.labelOf(run.out(), "debian:1")
        + " --timeout 5000 target || goto start"), run.out());
  }

  @Test
  void kexecDryRunFetchesVerifiedFilesAndPrintsTheCommands() throws Exception {
    Path dir = tmp.resolve("kexec");
    var run = CliRun.run("kexec", origin.toString(), "debian:2", "--dry-run", "--dir",
        dir.toString(), "--cache", tmp.resolve("c3").toString(), "--trust",
        tmp.resolve("publisher.key.pub").toString(), "--nbd", "192.168.1.10:10809").ok();
    assertArrayEquals(kernel, Files.readAllBytes(dir.resolve("debian-2.kernel")));
    assertArrayEquals(initrd, Files.readAllBytes(dir.resolve("debian-2.initrd")));
    assertEquals("kexec -l " + dir.resolve("debian-2.kernel") + " --initrd="
        + dir.resolve("debian-2.initrd") + " '--command-line=root=/dev/nbd0"
        + " nbdroot=192.168.1.10:10809/debian:2 ip=dhcp ro console=ttyS0 init=/sbin/test'\n"
        + "kexec -e\n", run.out());
  }

  @Test
  void kexecWritesNothingWhenAnInitrdBlockFailsVerification() throws Exception {
    Path copy = tmp.resolve("origin-copy");
    try (var files = Files.walk(origin)) {
      for (Path f : files.toList()) {
        Path to = copy.resolve(origin.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    var table = archive.table(archive.catalog().require("debian:2"));
    // the initrd is fetched after the kernel: the whole, verified kernel must not be written either
    var stored = (BlockEntry.Stored) table.attachments().get("initrd").blocks().stream()
        .filter(e -> e instanceof BlockEntry.Stored).skip(1).findFirst().orElseThrow();
    Path file = copy.resolve(OriginLayout.block(stored.name()));
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 4;
    Files.write(file, bytes);
    Path dir = tmp.resolve("kexec-bad");
    var run = CliRun.run("kexec", copy.toString(), "debian:2", "--dry-run", "--dir", dir.toString(),
        "--cache", tmp.resolve("c-bad").toString(), "--trust",
        tmp.resolve("publisher.key.pub").toString(), "--nbd", "192.168.1.10:10809");
    assertEquals(1, run.exitCode(), run.out());
    assertTrue(run.err().contains("debian:2 initrd block 1 (" + stored.name() + ")"), run.err());
    assertEquals("", run.out(), "no kexec command is printed");
    assertFalse(Files.exists(dir.resolve("debian-2.kernel")), "no kernel file is written");
  }
}
