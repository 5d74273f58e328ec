package org.oscircular.node.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.oscircular.node.testing.Await;
import org.oscircular.node.testing.ChildJvm;
import org.oscircular.node.testing.CliRun;
import org.oscircular.node.testing.NginxOrigin;
import org.oscircular.node.testing.Root;
import picocli.CommandLine;

/** What a user sees when asking for help or getting something wrong: one line, the command's name, exit 1. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliErrorMessagesTest {
  @TempDir Path dir;

  /** Every command and nested command, as typed after {@code circular}: "publish", "cache stats", … */
  static Stream<String> everyCommand() {
    List<String> out = new ArrayList<>();
    collect(CircularCli.commandLine(), "", out);
    return out.stream();
  }

  private static void collect(CommandLine cl, String prefix, List<String> out) {
    cl.getSubcommands().forEach((name, sub) -> {
      if (!name.equals("help")) {
        out.add(prefix + name);
        collect(sub, prefix + name + " ", out);
      }
    });
  }

  @ParameterizedTest
  @MethodSource("everyCommand")
  void everyCommandPrintsItsUsageForHelpAndExitsZero(String command) {
    List<String> args = new ArrayList<>(List.of(command.split(" ")));
    args.add("--help");
    var r = CliRun.run(args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("Usage: circular " + command + " ").contains("--help");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void aCommandLineThatCannotBeParsedShowsTheProblemAndTheUsageAndExitsTwo() {
    var r = CliRun.run("get", "http://127.0.0.1:9/");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("Missing required parameters: 'IMAGE:VERSION', 'OUT'\nUsage: circular get ");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void aBadSetOfANestedCommandNamesTheWholeCommand() {
    var r = CliRun.run("cache", "stats", "--cache", dir.toString(), "--set", "cache.max-byte=1G");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo(
        "circular cache stats: --set: unknown key 'cache.max-byte' (see docs/configuration.md for every key)\n");
  }

  @Test
  void aDurationWithoutAUnitIsRefusedNamingTheKeyAndTheForm() {
    var r = CliRun.run("unpin", "a:1", "--cache", dir.resolve("c").toString(), "--set", "fetch.timeout=10");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo(
        "circular unpin: fetch.timeout must be a duration such as 500ms, 10s, 5m or 1h, got '10' (--set)\n");
  }

  @Test
  void aCacheThatIsAFileIsRefusedInOneLineAndTheFileIsLeftAlone() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-cache"), "keep me");
    var r = CliRun.run("unpin", "a:1", "--cache", file.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular unpin: cache " + file + " is not a directory\n");
    assertThat(Files.readString(file)).isEqualTo("keep me");
  }

  @Test
  void mountRefusesAMissingOrNonEmptyMountPointBeforeTouchingCacheOrNetwork() throws Exception {
    Path cache = dir.resolve("cache");
    String origin = "http://127.0.0.1:9/"; // discard port: nothing is asked of it
    Path missing = dir.resolve("no-such-dir");
    var r = CliRun.run("mount", origin, missing.toString(), "--cache", cache.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular mount: mount point " + missing + " does not exist (create an empty directory)\n");

    Path full = Files.createDirectories(dir.resolve("full"));
    Files.writeString(full.resolve("notes.txt"), "hidden by a mount");
    r = CliRun.run("mount", origin, full.toString(), "--cache", cache.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular mount: mount point " + full
        + " is not empty (something is mounted there, or it holds files the mount would hide)\n");
    assertThat(cache).doesNotExist();
  }

  @Test
  void aPortInUseIsNamedWithItsAddressForTheJdkAndTheNettyListeners() throws Exception {
    Path image = Files.write(dir.resolve("disk.img"), new byte[4096]);
    try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String listen = "127.0.0.1:" + taken.getLocalPort();
      String inUse = "address already in use (another process listens there; stop it or choose another port)\n";

      var origin = CliRun.run("serve-origin", dir.toString(), "--listen", listen);
      assertThat(origin.exitCode()).isEqualTo(1);
      assertThat(origin.err()).isEqualTo("circular serve-origin: cannot listen for HTTP on " + listen + ": " + inUse);

      var nbd = CliRun.run("nbd", "--file", "disk=" + image, "--listen", listen);
      assertThat(nbd.exitCode()).isEqualTo(1);
      assertThat(nbd.err()).isEqualTo("circular nbd: cannot listen for NBD on " + listen + ": " + inUse);
    }
  }

  @Test
  void verifyOfACorruptBlockLogsOneLinePerProblemFromARealProcess() throws Exception {
    Path origin = publishA(random(1 << 20, 5), "--block-size", "64K");
    Path block;
    try (var files = Files.walk(origin.resolve("blocks"))) {
      block = files.filter(Files::isRegularFile).findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(block);
    bytes[bytes.length / 2] ^= 1;
    Files.write(block, bytes);

    try (var child = ChildJvm.start(dir.resolve("logs"), "verify", origin.toString(),
        "--trust", dir.resolve("k.pub").toString(), "--state-dir", dir.resolve("state").toString())) {
      assertThat(child.process().waitFor(45, TimeUnit.SECONDS)).as("verify exits").isTrue();
      assertThat(child.process().exitValue()).isEqualTo(1);
      List<String> lines = child.err().lines().toList();
      assertThat(lines).anyMatch(l -> l.startsWith("bad block " + block.getFileName()));
      // java.util.logging's default format takes two lines, the first a bare date and a class name
      assertThat(lines).noneMatch(l -> l.startsWith("WARNING:") || l.matches("^[A-Z][a-z]{2} \\d+, \\d{4} .*"));
    }
  }

  @Test
  void pingOfAClosedPortSaysTheConnectionWasRefused() throws Exception {
    // A socket bound but never listening holds the port for the whole test, so nothing else can take it
    // and the dial cannot connect to itself (a port closed again could be either), and the kernel answers
    // a connect to it with a reset: refused.
    try (var held = new Socket()) {
      held.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      String address = "/ip4/127.0.0.1/tcp/" + held.getLocalPort();
      var r = CliRun.run("ping", address, "-c", "1", "--timeout", "5s");
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err()).isEqualTo("circular ping: cannot connect to " + address
          + ": connection refused (nothing listens there)\n");
    }
  }

  @Test
  void aNodeWithoutItsTrustFileSaysWhereToPutIt() {
    Path trust = dir.resolve("etc/trusted-keys");
    var r = CliRun.run("node", "--set", "node.data-dir=" + dir.resolve("data"), "--set", "origins=http://127.0.0.1:9/",
        "--set", "trust.file=" + trust, "--set", "p2p.listen=", "--set", "nbd.listen=", "--set", "metrics.listen=",
        "--set", "mdns.enabled=false");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular node: trust.file " + trust + " does not exist (install the publisher's .pub"
        + " there, see docs/operations.md, or point trust.file at it)\n");
  }

  @Test
  void aCatalogValidityOfZeroIsRefusedAndTheCatalogStaysAsItWas() throws Exception {
    Path origin = publishA(new byte[4 * 4096], "--block-size", "4K");
    byte[] catalog = Files.readAllBytes(origin.resolve("catalog"));

    var r = CliRun.run("resign", origin.toString(), "--key", dir.resolve("k").toString(), "--catalog-valid", "0s");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular resign: --catalog-valid must be positive, got '0s' (e.g. 30d)\n");
    assertThat(Files.readAllBytes(origin.resolve("catalog"))).isEqualTo(catalog);
  }

  @Test
  void nbdRefusesAnExportNameGivenTwiceInsteadOfServingOnlyTheLast() throws Exception {
    Path a = Files.write(dir.resolve("a.img"), new byte[4096]);
    Path b = Files.write(dir.resolve("b.img"), new byte[8192]);
    var r = CliRun.run("nbd", "--file", "disk=" + a, "--file", "disk=" + b, "--listen", "127.0.0.1:0");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular nbd: --file gives the export name 'disk' twice\n");
    var noPath = CliRun.run("nbd", "--file", "disk", "--listen", "127.0.0.1:0");
    assertThat(noPath.exitCode()).isEqualTo(1);
    assertThat(noPath.err()).isEqualTo("circular nbd: --file expects NAME=PATH, got 'disk'\n");
  }

  @Test
  void anInterruptedGetLeavesNeitherTheFileNorItsPartialCopy() throws Exception {
    Path origin = publishA(random(4 << 20, 11), "--block-size", "64K", "--codec", "none");
    Path out = dir.resolve("got.img");
    Path partial = dir.resolve(".tmp-got.img");
    // 4 MiB at 2 x 256 KiB/s: the download is still running when it is stopped
    try (var nginx = NginxOrigin.start(origin, "limit_rate 256k;");
        var child = ChildJvm.start(dir.resolve("logs"), "get", nginx.url(), "a:1", out.toString(), "--quiet",
            "--parallel", "2", "--trust", dir.resolve("k.pub").toString(), "--state-dir", dir.resolve("s").toString())) {
      Await.atMost(Duration.ofSeconds(30))
          .until("get to write its partial file", () -> Files.exists(partial));
      child.terminate(Duration.ofSeconds(20)); // SIGTERM: what Ctrl-C does too, shutdown hooks and exit
    }
    assertThat(out).doesNotExist();
    assertThat(partial).doesNotExist();
  }

  @Test
  void anInterruptedPinSaysHowToResumeAndTheNextRunFinishes() throws Exception {
    Path origin = publishA(random(4 << 20, 12), "--block-size", "64K", "--codec", "none");
    String cache = dir.resolve("cache").toString();
    String trust = dir.resolve("k.pub").toString();
    try (var nginx = NginxOrigin.start(origin, "limit_rate 128k;")) {
      String[] pin = {"pin", nginx.url(), "a:1", "--quiet", "--cache", cache, "--trust", trust,
          "--set", "fetch.origin-connections=2"};
      try (var child = ChildJvm.start(dir.resolve("logs"), pin)) {
        // 4 MiB at 2 x 128 KiB/s takes 16 s: stop it once the first blocks came in
        Await.atMost(Duration.ofSeconds(30)).until("the first blocks",
            () -> nginx.accessLog().stream().filter(l -> l.contains("/blocks/")).count() >= 2);
        assertThat(child.terminate(Duration.ofSeconds(20))).isNotZero();
        assertThat(child.err()).contains("circular pin: interrupted; what was fetched stays cached, run the same"
            + " command again to fetch the rest\n");
      }
      var resumed = CliRun.run(pin).ok();
      assertThat(resumed.out()).startsWith("pinned a:1: 64 blocks");
      assertThat(resumed.err()).doesNotContain("interrupted");
    }
  }

  @Test
  void aNodeStoppedWithSigtermExitsZeroSoSystemdCountsItAsAStop() throws Exception {
    Path origin = publishA(new byte[4 * 4096], "--block-size", "4K");
    try (var child = ChildJvm.start(dir.resolve("logs"), "node", "--set", "node.data-dir=" + dir.resolve("data"),
        "--set", "origins=" + origin, "--set", "trust.file=" + dir.resolve("k.pub"), "--set", "p2p.listen=",
        "--set", "nbd.listen=", "--set", "metrics.listen=", "--set", "mdns.enabled=false")) {
      child.awaitOutput(o -> o.contains(" up; "), Duration.ofSeconds(40));
      assertThat(child.terminate(Duration.ofSeconds(20))).as(child.err()).isZero();
      assertThat(child.err()).endsWith("circular node: stopped\n");
    }
  }

  @Test
  void anHttpsUrlForAPlainHttpOriginSaysSoInsteadOfDumpingTheAnswerInHex() throws Exception {
    Path origin = publishA(new byte[4 * 4096], "--block-size", "4K");
    try (var nginx = NginxOrigin.serve(origin)) {
      String https = nginx.url().replaceFirst("^http://", "https://");
      var r = CliRun.run("images", https, "--trust", dir.resolve("k.pub").toString(),
          "--state-dir", dir.resolve("s").toString());
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err()).isEqualTo("circular images: origin " + https
          + " answered in plain HTTP, not TLS (write http:// instead of https://)\n");
    }
  }

  @Test
  void publishNamesAPublicKeyGivenAsKeyAndAFileGivenAsOrigin() throws Exception {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    Path image = Files.write(dir.resolve("a.img"), new byte[4 * 4096]);
    Path origin = dir.resolve("origin");
    var pub = CliRun.run("publish", image.toString(), "--name", "a", "--version", "1", "--origin", origin.toString(),
        "--key", dir.resolve("k.pub").toString());
    assertThat(pub.exitCode()).isEqualTo(1);
    assertThat(pub.err()).isEqualTo("circular publish: " + dir.resolve("k.pub")
        + " is a public key; --key takes the private key written beside it by keygen (" + dir.resolve("k") + ")\n");
    assertThat(origin).doesNotExist();

    var file = CliRun.run("publish", image.toString(), "--name", "a", "--version", "1", "--origin", image.toString(),
        "--key", dir.resolve("k").toString());
    assertThat(file.exitCode()).isEqualTo(1);
    assertThat(file.err()).isEqualTo("circular publish: origin " + image + " is not a directory\n");
    var images = CliRun.run("images", image.toString(), "--trust", dir.resolve("k.pub").toString(),
        "--state-dir", dir.resolve("s").toString());
    assertThat(images.err()).isEqualTo("circular images: origin directory " + image + " is not a directory\n");
  }

  @Test
  void getIntoAFullOrMissingDirectoryNamesTheFileAndLeavesNothing() throws Exception {
    Path origin = publishA(random(1 << 20, 13), "--block-size", "64K");
    String[] trust = {"--trust", dir.resolve("k.pub").toString(), "--state-dir", dir.resolve("s").toString(), "--quiet"};

    Path missing = dir.resolve("no-such-dir/a.img");
    var r = CliRun.run(concat(new String[] {"get", origin.toString(), "a:1", missing.toString()}, trust));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular get: cannot write " + missing + ": directory " + missing.getParent()
        + " does not exist\n");

    Root.require("a small tmpfs that get fills");
    Path small = Files.createDirectories(dir.resolve("small"));
    Root.run("mount", "-t", "tmpfs", "-o", "size=256k", "get-full-test", small.toString());
    try {
      Path out = small.resolve("a.img");
      var full = CliRun.run(concat(new String[] {"get", origin.toString(), "a:1", out.toString()}, trust));
      assertThat(full.exitCode()).isEqualTo(1);
      assertThat(full.err()).isEqualTo("circular get: cannot write " + out + ": No space left on device\n");
      try (var left = Files.list(small)) {
        assertThat(left).isEmpty();
      }
    } finally {
      Root.unmount(small);
    }
  }

  @Test
  void publishIntoAFullOriginSaysNothingWasPublishedAndGcCleansUp() throws Exception {
    Root.require("a small tmpfs that publish fills");
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    byte[] first = new byte[128 << 10];
    new Random(14).nextBytes(first);
    Files.write(dir.resolve("first.img"), first);
    byte[] big = new byte[1 << 20];
    new Random(15).nextBytes(big);
    Files.write(dir.resolve("big.img"), big);
    Path small = Files.createDirectories(dir.resolve("small"));
    Root.run("mount", "-t", "tmpfs", "-o", "size=512k", "publish-full-test", small.toString());
    try {
      Path origin = small.resolve("origin");
      String[] common = {"--origin", origin.toString(), "--key", dir.resolve("k").toString(), "--block-size", "64K",
          "--codec", "none", "--quiet"};
      CliRun.run(concat(new String[] {"publish", dir.resolve("first.img").toString(), "--name", "a", "--version", "1"},
          common)).ok();
      byte[] catalog = Files.readAllBytes(origin.resolve("catalog"));
      var r = CliRun.run(concat(new String[] {"publish", dir.resolve("big.img").toString(), "--name", "a",
          "--version", "2"}, common));
      assertThat(r.exitCode()).isEqualTo(1);
      assertThat(r.err()).isEqualTo("circular publish: origin " + origin + " is full (No space left on device);"
          + " nothing was published, and 'circular gc " + origin + "' removes the blocks already written\n");
      assertThat(Files.readAllBytes(origin.resolve("catalog"))).isEqualTo(catalog);
      assertThat(CliRun.run("gc", origin.toString()).ok().out()).contains("kept 2 used by live versions");
    } finally {
      Root.unmount(small);
    }
  }

  @Test
  void theOriginWritingCommandsSayTheyTakeADirectoryNotAUrl() throws Exception {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    String key = dir.resolve("k").toString();
    String url = "http://127.0.0.1:9/";
    var gc = CliRun.run("gc", url);
    assertThat(gc.exitCode()).isEqualTo(1);
    assertThat(gc.err()).isEqualTo("circular gc: this command writes the origin directory on the publishing machine,"
        + " not a URL: got 'http://127.0.0.1:9'\n");
    var retire = CliRun.run("retire", url, "a:1", "--key", key);
    assertThat(retire.err()).startsWith("circular retire: this command writes the origin directory");
    Path missing = dir.resolve("no-origin");
    var resign = CliRun.run("resign", missing.toString(), "--key", key);
    assertThat(resign.exitCode()).isEqualTo(1);
    assertThat(resign.err()).isEqualTo("circular resign: origin directory " + missing + " does not exist\n");
    assertThat(missing).doesNotExist();
  }

  @Test
  void bootMenuRefusesADefaultThatIsNotBootable() throws Exception {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    Path image = Files.write(dir.resolve("a.img"), new byte[4 * 4096]);
    Path kernel = Files.write(dir.resolve("vmlinuz"), new byte[] {1, 2, 3});
    Path origin = dir.resolve("origin");
    CliRun.run("publish", image.toString(), "--name", "a", "--version", "1", "--origin", origin.toString(),
        "--key", dir.resolve("k").toString(), "--block-size", "4K", "--kernel", kernel.toString(), "--quiet").ok();
    String[] common = {"--trust", dir.resolve("k.pub").toString(), "--cache", dir.resolve("cache").toString()};
    assertThat(CliRun.run(concat(new String[] {"boot-menu", origin.toString(), "--default", "a:1"}, common)).ok().out())
        .contains("nbdroot=127.0.0.1:10809/a:1");
    var r = CliRun.run(concat(new String[] {"boot-menu", origin.toString(), "--default", "a:2"}, common));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("circular boot-menu: --default a:2 is not a bootable version (bootable: a:1)\n");
  }

  private static String[] concat(String[] a, String[] b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }

  @Test
  void printConfigReachesTheStdoutOfARealProcess() throws Exception {
    // In-process runs write to a StringWriter; only a real process shows whether the text is flushed before exit.
    try (var child = ChildJvm.start(dir.resolve("logs"), "node", "--print-config", "--set", "cache.max-bytes=2G")) {
      assertThat(child.process().waitFor(45, TimeUnit.SECONDS)).as("node --print-config exits").isTrue();
      assertThat(child.process().exitValue()).as(child.err()).isZero();
      assertThat(child.out()).contains("cache.max-bytes = 2G    # --set\n").contains("node.role = client    # ");
    }
  }

  /** Publishes {@code img} as a:1 into DIR/origin, signed with a new key DIR/k; returns the origin. */
  private Path publishA(byte[] img, String... options) throws Exception {
    CliRun.run("keygen", "--out", dir.resolve("k").toString()).ok();
    Files.write(dir.resolve("a.img"), img);
    Path origin = dir.resolve("origin");
    List<String> args = new ArrayList<>(List.of("publish", dir.resolve("a.img").toString(), "--name", "a",
        "--version", "1", "--origin", origin.toString(), "--key", dir.resolve("k").toString(), "--quiet"));
    args.addAll(List.of(options));
    CliRun.run(args.toArray(String[]::new)).ok();
    return origin;
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }
}
